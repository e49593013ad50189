/**
 * The Inlet uploader's join of `lvu:<ref>`: it claims the upload's parked
 * resumable session when the same browser session, config and file come
 * back (docs/uploads.md, "Resume"), or opens a new one, or, where nothing
 * resumes, creates a plain stored upload as the official uploader's join does.
 */
import type { ChannelContext, JoinResult } from '../protocol/channel.js';
import type { Signer } from '../live/tokens.js';
import type { ChunkLimits, StoredEntry } from './channels.js';
import type { EntryState } from './config.js';
import { openForJoin, type JoinRefusal, type SniffRules } from './entry-channel.js';
import { InletUploadChannel } from './inlet-channel.js';
import { INLET_REASONS } from './inlet-wire.js';
import type { UploadManager } from './manager.js';
import type { AttachedSession } from './resume/registry.js';

/** Purpose of the keyed digest that names a browser session's resumable uploads. */
export const RESUME_OWNER_PURPOSE = 'resume-owner';

const FINGERPRINT = /^[0-9a-f]{64}$/;
const RESUME_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** What the join found for the entry. */
export interface InletJoinTarget {
  readonly entry: EntryState;
  readonly limits: ChunkLimits;
  readonly name: string;
  readonly rules: SniffRules;
}

/**
 * Joins the Inlet uploader's channel for `target.entry`: claims or opens its
 * resumable session, or creates a plain upload; replies with the offset to
 * send from.
 */
export async function joinInletChannel(
  payload: Record<string, unknown>,
  ctx: ChannelContext,
  signer: Signer,
  manager: UploadManager,
  target: InletJoinTarget,
  viewAlive: () => boolean,
): Promise<JoinResult> {
  const { entry, limits, name, rules } = target;
  let resumed = false;
  let refused = false;
  const stored = await openForJoin(manager, entry, async (): Promise<StoredEntry | JoinRefusal> => {
    const session = await resumableSession(payload, ctx, signer, manager, entry, name);
    if (session === 'too_many') return { error: { reason: INLET_REASONS.TOO_MANY_SESSIONS } };
    if (!session) {
      const opened = await manager.storeFor(name, entry);
      await opened.store.create(opened.record);
      return opened;
    }
    const claimed: StoredEntry = { store: session.store, record: session.record, resume: session.handle, hash: session.hash };
    resumed = session.resumed;
    refused = session.refused;
    try {
      if (!resumed) await claimed.store.create(claimed.record);
    } catch (e) {
      session.handle.end();
      throw e;
    }
    entry.received = session.offset;
    return claimed;
  });
  if ('error' in stored) return stored;
  const channel = new InletUploadChannel(ctx, manager, entry, limits, stored, rules, viewAlive);
  manager.attachChannel(entry, channel, stored);
  stored.resume?.heldBy(channel);
  return {
    channel,
    reply: {
      ...channel.joinReply(),
      resumed,
      ...(stored.resume ? { rid: stored.resume.id } : {}),
      ...(refused ? { claim: 'refused' } : {}),
    },
  };
}

type Found = (AttachedSession & { readonly refused: boolean }) | 'too_many' | undefined;

/**
 * The entry's resumable session: claimed (the id the client gave, or the one
 * this entry's last channel parked, else any parked session with the same
 * key) or newly opened. Undefined when the upload cannot resume: the config
 * or server keeps no sessions, the connection has no CSRF-checked browser
 * session, or the client gave no fingerprint.
 */
async function resumableSession(
  payload: Record<string, unknown>,
  ctx: ChannelContext,
  signer: Signer,
  manager: UploadManager,
  entry: EntryState,
  name: string,
): Promise<Found> {
  const csrf = ctx.connection.params._csrf_token;
  const fingerprint = payload.fp;
  if (!ctx.connection.csrfValid || typeof csrf !== 'string' || typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) return undefined;
  const target = await manager.resumableStore(name, entry);
  if (!target) return undefined;
  const { registry, store } = target;
  const key = { owner: signer.digest(RESUME_OWNER_PURPOSE, csrf), config: name, fingerprint, size: entry.clientSize };
  const asked = typeof payload.rid === 'string' && RESUME_ID.test(payload.rid) ? payload.rid : undefined;
  const ids = [...new Set([manager.parkedSession(entry), asked].filter((id): id is string => id !== undefined))];
  for (const id of ids) {
    const claimed = await registry.claim(key, id, store);
    if (claimed) return { ...claimed, refused: false };
  }
  const byKey = await registry.claim(key, undefined, store);
  if (byKey) return { ...byKey, refused: false };
  const opened = await registry.open(key, store, { clientName: entry.clientName, clientType: entry.clientType || undefined });
  if (!opened) return 'too_many';
  // A resume id that named no session this browser session may claim: the upload starts afresh.
  return { ...opened, refused: asked !== undefined };
}
