/**
 * The `lvu:<entry ref>` channel: receives one entry's chunks from the
 * official client, one at a time, into the entry's writer (protocol.md §5.7).
 */
import { error, ok, type Channel, type ChannelContext, type JoinResult, type Reply, type TerminateReason } from '../protocol/channel.js';
import type { Signer } from '../live/tokens.js';
import type { EntryState } from './config.js';
import type { ChunkLimits, UploadTokenData } from './channels.js';
import type { UploadManager } from './manager.js';
import { ENTRY_ERRORS, UPLOAD_REASONS } from './reasons.js';
import { TmpFileWriter, type UploadWriter } from './writer.js';

export { UPLOAD_REASONS } from './reasons.js';

/** Finds the upload manager of the view a token names, on the same connection. */
export type ManagerLookup = (viewId: string, ctx: ChannelContext) => UploadManager | undefined;

/**
 * Joins an upload channel: checks the token, binds it to the entry, and opens
 * the entry's writer.
 */
export async function joinUploadChannel(
  payload: Record<string, unknown>,
  ctx: ChannelContext,
  signer: Signer,
  lookup: ManagerLookup,
): Promise<JoinResult> {
  const token = signer.verify<UploadTokenData>('upload', payload.token);
  if (!token || typeof token.v !== 'string') return { error: { reason: UPLOAD_REASONS.INVALID_TOKEN } };
  const manager = lookup(token.v, ctx);
  if (!manager) return { error: { reason: UPLOAD_REASONS.INVALID_TOKEN } };
  const topicRef = ctx.topic.slice('lvu:'.length);
  const found = manager.entryForChannel(token, topicRef);
  if ('reason' in found) return { error: { reason: found.reason } };
  const { entry, limits, name } = found;
  let writer: UploadWriter;
  try {
    writer = await manager.createWriter(name, entry, (dir) => new TmpFileWriter(dir));
    await writer.init();
  } catch (e) {
    manager.releaseReservation(entry);
    manager.channelFailed(entry, ENTRY_ERRORS.WRITER_FAILURE, e instanceof Error ? e.message : String(e));
    return { error: { reason: UPLOAD_REASONS.WRITER_ERROR } };
  }
  if (entry.cancelled) {
    // Cancelled while the writer opened.
    manager.releaseReservation(entry);
    await writer.close('cancel');
    return { error: { reason: UPLOAD_REASONS.DISALLOWED } };
  }
  const channel = new UploadChannel(ctx, manager, entry, limits, writer);
  manager.attachChannel(entry, channel, writer);
  return { channel };
}

class UploadChannel implements Channel {
  readonly #ctx: ChannelContext;
  readonly #manager: UploadManager;
  readonly #entry: EntryState;
  readonly #options: ChunkLimits;
  readonly #writer: UploadWriter;
  #timer?: NodeJS.Timeout;
  #closed = false;
  #writerClosed = false;
  /**
   * Write-behind: a chunk is acknowledged while it is being written, so disk
   * time overlaps the transfer of the next chunk (the client sends one chunk
   * per round trip). At most one write is outstanding; its failure is
   * reported on the next chunk or at completion.
   */
  #writing: Promise<void> = Promise.resolve();
  #writeError?: unknown;

  constructor(ctx: ChannelContext, manager: UploadManager, entry: EntryState, options: ChunkLimits, writer: UploadWriter) {
    this.#ctx = ctx;
    this.#manager = manager;
    this.#entry = entry;
    this.#options = options;
    this.#writer = writer;
  }

  async handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined> {
    if (event !== 'chunk') return error({ reason: UPLOAD_REASONS.UNKNOWN_EVENT });
    if (!Buffer.isBuffer(payload)) return error({ reason: UPLOAD_REASONS.INVALID_CHUNK });
    if (this.#closed || this.#writerClosed) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    const entry = this.#entry;
    this.#armTimer();
    if (payload.length > this.#options.chunkSize) {
      await this.#abort(`a chunk of ${payload.length} bytes exceeds the chunk size ${this.#options.chunkSize}`);
      return error({ reason: UPLOAD_REASONS.CHUNK_TOO_LARGE, limit: this.#options.chunkSize });
    }
    if (entry.received + payload.length > entry.clientSize) {
      await this.#abort(`more bytes than the declared ${entry.clientSize}`);
      return error({ reason: UPLOAD_REASONS.SIZE_EXCEEDED, limit: entry.clientSize });
    }
    await this.#writing;
    if (this.#closed || this.#writerClosed) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    if (this.#writeError === undefined) {
      this.#writing = Promise.resolve()
        .then(() => this.#writer.writeChunk(payload))
        .catch((e: unknown) => {
          this.#writeError = e;
        });
      entry.received += payload.length;
      if (entry.received === entry.clientSize) await this.#writing;
    }
    if (this.#writeError !== undefined) return this.#writeFailed(this.#writeError);
    if (entry.received === entry.clientSize) {
      this.#clearTimer();
      try {
        await this.#closeWriter('done');
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        this.#manager.channelFailed(entry, ENTRY_ERRORS.WRITER_FAILURE, message);
        return error({ reason: UPLOAD_REASONS.WRITER_ERROR });
      }
      entry.bytesComplete = true;
    }
    return ok();
  }

  async #writeFailed(cause: unknown): Promise<Reply> {
    const message = cause instanceof Error ? cause.message : String(cause);
    this.#clearTimer();
    await this.#closeWriter({ error: message }).catch(() => undefined);
    this.#manager.channelFailed(this.#entry, ENTRY_ERRORS.WRITER_FAILURE, message);
    return error({ reason: UPLOAD_REASONS.WRITER_ERROR });
  }

  /** Stops the upload because the client sent more than it may (the entry fails as too large). */
  async #abort(message: string): Promise<void> {
    this.#clearTimer();
    await this.#closeWriter({ error: message }).catch(() => undefined);
    this.#manager.channelFailed(this.#entry, ENTRY_ERRORS.TOO_LARGE, message);
  }

  async #closeWriter(reason: 'done' | 'cancel' | { error: string }): Promise<void> {
    if (this.#writerClosed) return;
    this.#writerClosed = true;
    await this.#writing;
    await this.#writer.close(reason);
  }

  #armTimer(): void {
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed || this.#entry.bytesComplete) return;
      this.#manager.channelFailed(this.#entry, ENTRY_ERRORS.CHUNK_TIMEOUT, `no chunk for ${this.#options.chunkTimeout} ms`);
      this.#ctx.close();
    }, this.#options.chunkTimeout);
    this.#timer.unref?.();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Closes from the server side (consume, cancel). */
  async close(): Promise<void> {
    if (this.#closed) return;
    const released = this.#release();
    this.#ctx.close();
    await released;
  }

  terminate(_reason: TerminateReason): void {
    void this.#release();
  }

  async #release(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    this.#manager.detachChannel(this.#entry);
    if (!this.#entry.bytesComplete) await this.#closeWriter('cancel').catch(() => undefined);
  }
}
