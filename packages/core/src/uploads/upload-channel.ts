/**
 * The `lvu:<entry ref>` channel: joins check the token and create the entry's
 * upload in its store; then either the official client's uploader sends raw chunks, one at
 * a time (protocol.md §5.7), or the Inlet uploader sends framed, checksummed
 * chunks with a window in flight (inlet-channel.ts).
 */
import { error, ok, type ChannelContext, type JoinResult, type Reply } from '../protocol/channel.js';
import type { Signer } from '../live/tokens.js';
import { EntryChannel, openForJoin } from './entry-channel.js';
import { isInletJoin } from './inlet-channel.js';
import { joinInletChannel } from './inlet-join.js';
import type { UploadTokenData } from './channels.js';
import type { UploadManager } from './manager.js';
import { ENTRY_ERRORS, UPLOAD_REASONS } from './reasons.js';

export { UPLOAD_REASONS } from './reasons.js';

/** Finds the upload manager of the view a token names, on the same connection. */
export type ManagerLookup = (viewId: string, ctx: ChannelContext) => UploadManager | undefined;

/**
 * Joins an upload channel: checks the token, binds it to the entry, and
 * creates the entry's upload in its store.
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
  const found = await manager.entryForChannelWhenFree(token, topicRef);
  if ('reason' in found) return { error: { reason: found.reason } };
  const { entry, limits, name, rules } = found;
  if (isInletJoin(payload)) return joinInletChannel(payload, ctx, signer, manager, found, () => lookup(token.v, ctx) === manager);
  const stored = await openForJoin(manager, entry, async () => {
    const opened = await manager.storeFor(name, entry);
    await opened.store.create(opened.record);
    return opened;
  });
  if ('error' in stored) return stored;
  const channel = new UploadChannel(ctx, manager, entry, limits, stored, rules);
  manager.attachChannel(entry, channel, stored);
  return { channel };
}

/** The official client's uploader: raw chunks in order, one at a time. */
class UploadChannel extends EntryChannel {
  async handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined> {
    if (event !== 'chunk') return error({ reason: UPLOAD_REASONS.UNKNOWN_EVENT });
    if (!Buffer.isBuffer(payload)) return error({ reason: UPLOAD_REASONS.INVALID_CHUNK });
    if (!this.open) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    const entry = this.entry;
    this.armTimer();
    if (payload.length > this.limits.chunkSize) {
      await this.fail(ENTRY_ERRORS.TOO_LARGE, `a chunk of ${payload.length} bytes exceeds the chunk size ${this.limits.chunkSize}`);
      return error({ reason: UPLOAD_REASONS.CHUNK_TOO_LARGE, limit: this.limits.chunkSize });
    }
    if (entry.received + payload.length > entry.clientSize) {
      await this.fail(ENTRY_ERRORS.TOO_LARGE, `more bytes than the declared ${entry.clientSize}`);
      return error({ reason: UPLOAD_REASONS.SIZE_EXCEEDED, limit: entry.clientSize });
    }
    const refused = await this.sniffFirst(payload);
    if (refused) return refused;
    const vetoed = await this.queueWrite(payload);
    if (vetoed) return vetoed;
    if (!this.open) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    if (this.writeError === undefined) {
      entry.received += payload.length;
      if (entry.received === entry.clientSize) await this.drain();
    }
    if (this.writeError !== undefined) return this.writeFailed(this.writeError);
    if (entry.received === entry.clientSize) {
      this.clearTimer();
      const failed = await this.completeStored();
      if (failed) return failed;
      entry.bytesComplete = true;
    }
    return ok();
  }
}
