/**
 * The Inlet uploader's side of `lvu:<entry ref>` (docs/uploads.md, "The Inlet
 * uploader"): framed chunks carrying their offset and CRC-32, several in
 * flight, each checked before it is written; a refused chunk is sent again
 * from the offset the reply names. After the last byte the client's SHA-256
 * of the whole file is compared with the server's streaming hash.
 */
import { crc32 } from 'node:zlib';
import { error, ok, type Reply } from '../protocol/channel.js';
import { EntryChannel } from './entry-channel.js';
import {
  DEFAULT_INLET_WINDOW,
  INLET_EVENTS,
  INLET_REASONS,
  INLET_UPLOADER_VERSION,
  MAX_INLET_REFUSALS,
  parseInletChunk,
} from './inlet-wire.js';
import { ENTRY_ERRORS, UPLOAD_REASONS } from './reasons.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Whether a join payload comes from the Inlet uploader. */
export function isInletJoin(payload: Record<string, unknown>): boolean {
  return payload.inlet === INLET_UPLOADER_VERSION;
}

export class InletUploadChannel extends EntryChannel {
  /** Refused chunks since the last accepted one. */
  #refusals = 0;
  readonly #viewAlive: () => boolean;

  constructor(...args: [...ConstructorParameters<typeof EntryChannel>, viewAlive: () => boolean]) {
    const [ctx, manager, entry, limits, stored, rules, viewAlive] = args;
    super(ctx, manager, entry, limits, stored, rules);
    this.#viewAlive = viewAlive;
  }

  protected override viewAlive(): boolean {
    return this.#viewAlive();
  }

  /** The join reply: where to start, and the window. */
  joinReply(): Record<string, unknown> {
    return { offset: this.entry.received, chunk_size: this.limits.chunkSize, window: this.limits.window ?? DEFAULT_INLET_WINDOW };
  }

  async handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined> {
    switch (event) {
      case INLET_EVENTS.CHUNK:
        return this.#chunk(payload);
      case INLET_EVENTS.FINISH:
        return this.#finish(payload);
      case INLET_EVENTS.PAUSE:
        this.clearTimer();
        return ok();
      default:
        return error({ reason: UPLOAD_REASONS.UNKNOWN_EVENT });
    }
  }

  /** A refusal the client recovers from by sending again from the server's offset. */
  async #refuse(reason: string): Promise<Reply> {
    if (++this.#refusals > MAX_INLET_REFUSALS) {
      await this.fail(UPLOAD_REASONS.INVALID_CHUNK, `${MAX_INLET_REFUSALS} chunks in a row were refused (last: ${reason})`);
      return error({ reason: UPLOAD_REASONS.INVALID_CHUNK });
    }
    return error({ reason, offset: this.entry.received });
  }

  async #chunk(payload: Record<string, unknown> | Buffer): Promise<Reply> {
    if (!Buffer.isBuffer(payload)) return error({ reason: UPLOAD_REASONS.INVALID_CHUNK });
    if (!this.open || this.entry.bytesComplete) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    const entry = this.entry;
    const chunk = parseInletChunk(payload);
    if (!chunk) {
      await this.fail(UPLOAD_REASONS.INVALID_CHUNK, 'a chunk frame with an unknown header');
      return error({ reason: UPLOAD_REASONS.INVALID_CHUNK });
    }
    this.armTimer();
    const { data, offset } = chunk;
    if (data.length > this.limits.chunkSize) {
      await this.fail(ENTRY_ERRORS.TOO_LARGE, `a chunk of ${data.length} bytes exceeds the chunk size ${this.limits.chunkSize}`);
      return error({ reason: UPLOAD_REASONS.CHUNK_TOO_LARGE, limit: this.limits.chunkSize });
    }
    if (offset + data.length > entry.clientSize) {
      await this.fail(ENTRY_ERRORS.TOO_LARGE, `bytes up to ${offset + data.length}, beyond the declared ${entry.clientSize}`);
      return error({ reason: UPLOAD_REASONS.SIZE_EXCEEDED, limit: entry.clientSize });
    }
    if (offset !== entry.received) return this.#refuse(INLET_REASONS.OFFSET_MISMATCH);
    if (data.length === 0 || crc32(data) !== chunk.crc32) return this.#refuse(INLET_REASONS.CHUNK_CHECKSUM);
    const refused = await this.sniffFirst(data);
    if (refused) return refused;
    const vetoed = await this.queueWrite(data);
    if (vetoed) return vetoed;
    if (!this.open) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    if (this.writeError !== undefined) return this.writeFailed(this.writeError);
    this.#refusals = 0;
    entry.received += data.length;
    return ok({ offset: entry.received });
  }

  async #finish(payload: Record<string, unknown> | Buffer): Promise<Reply> {
    const entry = this.entry;
    const claimed = Buffer.isBuffer(payload) ? undefined : payload.sha256;
    if (typeof claimed !== 'string' || !SHA256_HEX.test(claimed)) return error({ reason: UPLOAD_REASONS.INVALID_CHUNK });
    if (entry.bytesComplete) return entry.sha256 === claimed ? ok({ sha256: claimed }) : error({ reason: INLET_REASONS.CHECKSUM_MISMATCH });
    if (!this.open) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    if (entry.received < entry.clientSize) return error({ reason: INLET_REASONS.INCOMPLETE, offset: entry.received });
    this.clearTimer();
    await this.drain();
    if (this.writeError !== undefined) return this.writeFailed(this.writeError);
    const actual = this.sha256SoFar();
    if (actual !== claimed) {
      await this.fail(INLET_REASONS.CHECKSUM_MISMATCH, `the browser's SHA-256 ${claimed} differs from the stored bytes' ${actual}`);
      return error({ reason: INLET_REASONS.CHECKSUM_MISMATCH });
    }
    const failed = await this.completeStored();
    if (failed) return failed;
    entry.sha256 = actual;
    entry.sha256Verified = true;
    entry.bytesComplete = true;
    return ok({ sha256: actual });
  }
}
