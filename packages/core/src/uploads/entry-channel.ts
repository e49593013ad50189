/**
 * What both upload channels share (the official uploader's and the Inlet
 * uploader's): the entry's writer with one write outstanding, the chunk
 * timer, sniffing on the first bytes, failures recorded on the entry, and
 * release when the channel ends.
 */
import type { Channel, ChannelContext, Reply, TerminateReason } from '../protocol/channel.js';
import { error } from '../protocol/channel.js';
import type { EntryState } from './config.js';
import type { ChunkLimits } from './channels.js';
import type { UploadManager } from './manager.js';
import { ENTRY_ERRORS, UPLOAD_REASONS } from './reasons.js';
import { sniffFirstChunk, type SniffOption } from './sniff.js';
import type { UploadErrorReason } from './socket-api.js';
import type { CloseReason, UploadWriter } from './writer.js';

/** What a channel checks the first bytes against. */
export interface SniffRules {
  readonly accept: readonly string[] | 'any';
  readonly sniff: SniffOption | undefined;
}

export abstract class EntryChannel implements Channel {
  protected readonly ctx: ChannelContext;
  protected readonly manager: UploadManager;
  protected readonly entry: EntryState;
  protected readonly limits: ChunkLimits;
  protected readonly writer: UploadWriter;
  readonly #rules: SniffRules;
  #timer?: NodeJS.Timeout;
  #sniffed = false;
  protected closed = false;
  protected writerClosed = false;
  /**
   * Write-behind: a chunk is acknowledged while it is being written, so disk
   * time overlaps the transfer of the next chunk. At most one write is
   * outstanding; its failure is reported on the next chunk or at completion.
   */
  #writing: Promise<void> = Promise.resolve();
  #writeError?: unknown;

  constructor(ctx: ChannelContext, manager: UploadManager, entry: EntryState, limits: ChunkLimits, writer: UploadWriter, rules: SniffRules) {
    this.ctx = ctx;
    this.manager = manager;
    this.entry = entry;
    this.limits = limits;
    this.writer = writer;
    this.#rules = rules;
  }

  abstract handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined>;

  /** Whether the channel can still take bytes. */
  protected get open(): boolean {
    return !this.closed && !this.writerClosed;
  }

  /**
   * Sniffs the first bytes once (the chunk at offset 0). On a refusal the
   * entry fails with `not_accepted` and a message, nothing is written, and
   * the reply to send is returned.
   */
  protected async sniffFirst(data: Buffer): Promise<Reply | undefined> {
    if (this.#sniffed || this.entry.received > 0) return undefined;
    this.#sniffed = true;
    const refusal = await sniffFirstChunk({ accept: this.#rules.accept, entry: this.entry, firstBytes: data, sniff: this.#rules.sniff });
    if (!refusal) return undefined;
    await this.fail(refusal.reason, refusal.message);
    return error({ reason: refusal.reason });
  }

  /** Queues `data` for writing after the write under way; returns once that one finished. */
  protected async queueWrite(data: Buffer, after?: (data: Buffer) => void): Promise<void> {
    await this.#writing;
    if (!this.open || this.#writeError !== undefined) return;
    this.#writing = Promise.resolve()
      .then(() => this.writer.writeChunk(data))
      .then(() => after?.(data))
      .catch((e: unknown) => {
        this.#writeError = e;
      });
  }

  /** Waits for the write under way. */
  protected async drain(): Promise<void> {
    await this.#writing;
  }

  /** The failure of an earlier write, if one failed. */
  protected get writeError(): unknown {
    return this.#writeError;
  }

  protected async writeFailed(cause: unknown): Promise<Reply> {
    const message = cause instanceof Error ? cause.message : String(cause);
    this.clearTimer();
    await this.closeWriter({ error: message }).catch(() => undefined);
    this.manager.channelFailed(this.entry, ENTRY_ERRORS.WRITER_FAILURE, message);
    return error({ reason: UPLOAD_REASONS.WRITER_ERROR });
  }

  /** Fails the entry: the writer is closed with the error and the reason recorded on the entry. */
  protected async fail(reason: UploadErrorReason, message: string): Promise<void> {
    this.clearTimer();
    await this.closeWriter({ error: message }).catch(() => undefined);
    this.manager.channelFailed(this.entry, reason, message);
  }

  /** Closes the writer as done; on failure records it and returns the error reply. */
  protected async closeDone(): Promise<Reply | undefined> {
    try {
      await this.closeWriter('done');
      return undefined;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.manager.channelFailed(this.entry, ENTRY_ERRORS.WRITER_FAILURE, message);
      return error({ reason: UPLOAD_REASONS.WRITER_ERROR });
    }
  }

  protected async closeWriter(reason: CloseReason): Promise<void> {
    if (this.writerClosed) return;
    this.writerClosed = true;
    await this.#writing;
    await this.writer.close(reason);
  }

  protected armTimer(): void {
    this.clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.closed || this.entry.bytesComplete) return;
      this.manager.channelFailed(this.entry, ENTRY_ERRORS.CHUNK_TIMEOUT, `no chunk for ${this.limits.chunkTimeout} ms`);
      this.ctx.close();
    }, this.limits.chunkTimeout);
    this.#timer.unref?.();
  }

  protected clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Closes from the server side (consume, cancel). */
  async close(): Promise<void> {
    if (this.closed) return;
    const released = this.release();
    this.ctx.close();
    await released;
  }

  terminate(_reason: TerminateReason): void {
    void this.release();
  }

  protected async release(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.manager.detachChannel(this.entry);
    if (!this.entry.bytesComplete) await this.closeWriter('cancel').catch(() => undefined);
  }
}
