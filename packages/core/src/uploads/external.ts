/**
 * External uploads of one view: calling the app's presign hook, and, for
 * `chunkedUpload()`, minting a session on the built-in receiver and turning
 * its progress, completion and failures into entry updates.
 */
import { InletError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LiveViewSocket } from '../live/socket.js';
import { chunkedOptions, type ChunkedUploadOptions, type ReceiverLink } from './chunked.js';
import type { SessionQuota } from './receiver/session-types.js';
import type { EntryState } from './config.js';
import { sniffFirstChunk } from './sniff.js';
import { ENTRY_ERRORS } from './reasons.js';
import type { UploadErrorReason } from './socket-api.js';
import { snapshot, type ConfigState } from './state.js';

/** A receiver session bound to an entry. */
export interface ReceiverBinding {
  readonly token: string;
  complete: boolean;
  unbind(): void;
}

/** A quota reservation the manager holds for an entry, which a receiver session can take over. */
export interface HeldQuota {
  readonly quota: SessionQuota;
  /** The session took it: the manager no longer refunds it (the receiver does, wherever the upload ends). */
  handedOver(): void;
}

/** What external uploads need from the manager. */
export interface ExternalHost {
  readonly viewId: string;
  readonly socket: LiveViewSocket<object>;
  readonly receiver?: ReceiverLink;
  readonly logger: Logger;
  /** Runs `fn` in the view's queue and pushes the resulting diff. */
  update(fn: () => Promise<void> | void): Promise<void>;
  /** Whether the entry is still one of its config's entries. */
  live(state: ConfigState, entry: EntryState): boolean;
  /** Marks the entry failed and the state changed. */
  fail(state: ConfigState, entry: EntryState, reason: UploadErrorReason, message?: string): void;
  /** Marks the state changed and calls the config's `progress` callback. */
  notify(state: ConfigState, entry: EntryState): Promise<void>;
  /** The entry's quota reservation, if the manager holds one. */
  heldQuota(state: ConfigState, entry: EntryState): HeldQuota | undefined;
}

/**
 * Presigns an external entry: the metadata for its client uploader, or
 * undefined when the hook failed (the entry then carries the failure).
 * `previous` is a receiver session from an earlier preflight of the same
 * entry, which is cancelled first.
 */
export async function presign(
  host: ExternalHost,
  state: ConfigState,
  entry: EntryState,
  previous: ReceiverBinding | undefined,
): Promise<{ meta?: Record<string, unknown>; binding?: ReceiverBinding }> {
  const external = state.raw.external;
  if (!external) return {};
  const chunked = chunkedOptions(external);
  if (chunked) return mintSession(host, state, entry, chunked, previous);
  try {
    const meta = await external(snapshot(entry), (state.socket ?? host.socket) as LiveViewSocket<object>);
    if (typeof meta !== 'object' || meta === null || typeof meta.uploader !== 'string' || meta.uploader.length === 0) {
      throw new InletError('INLET_ERR_UPLOAD_OPTION', 'external must return metadata with an "uploader" name.');
    }
    entry.meta = { ...meta };
    return { meta: entry.meta };
  } catch (e) {
    host.logger.error({ err: e, view: host.viewId, upload: state.name, ref: entry.ref }, 'presign failed');
    host.fail(state, entry, ENTRY_ERRORS.EXTERNAL_METADATA_FAILURE, e instanceof Error ? e.message : String(e));
    return {};
  }
}

/** UpChunk attempts per chunk when receiver sessions are shared by several nodes. */
export const SHARED_ATTEMPTS = 15;

/** The entry error a receiver failure becomes. */
function entryReason(reason: string): UploadErrorReason {
  if (reason === 'too_large') return ENTRY_ERRORS.TOO_LARGE;
  if (reason === 'expired') return ENTRY_ERRORS.CHUNK_TIMEOUT;
  if (reason === 'not_accepted') return ENTRY_ERRORS.NOT_ACCEPTED;
  if (reason === 'quota_exceeded') return ENTRY_ERRORS.QUOTA_EXCEEDED;
  return ENTRY_ERRORS.WRITER_FAILURE;
}

async function mintSession(
  host: ExternalHost,
  state: ConfigState,
  entry: EntryState,
  options: ChunkedUploadOptions,
  previous: ReceiverBinding | undefined,
): Promise<{ meta?: Record<string, unknown>; binding?: ReceiverBinding }> {
  const link = host.receiver;
  if (!link) {
    host.fail(state, entry, ENTRY_ERRORS.EXTERNAL_METADATA_FAILURE, 'this server has no upload receiver');
    return {};
  }
  if (previous) {
    previous.unbind();
    void link.registry.cancel(previous.token);
  }
  const held = host.heldQuota(state, entry);
  let minted;
  try {
    minted = await link.registry.mint({
      // As LiveView's channel: the limit is the config's, so a file larger than the size the client
      // declared still uploads; past its quota reservation it reserves more (or fails with quota_exceeded).
      maxSize: Math.max(entry.clientSize, state.options.maxFileSize),
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      ...(options.store ? { store: options.store } : {}),
      ...(entry.clientType ? { contentType: entry.clientType } : {}),
      entry: { viewId: host.viewId, confRef: state.ref, entryRef: entry.ref },
      // The first bytes are sniffed against accept, as on the socket (on this node, wherever they arrive).
      checkFirstBytes: async (head) =>
        (await sniffFirstChunk({ accept: state.options.accept, entry, firstBytes: head, sniff: state.raw.sniff }))?.message,
      ...(held ? { quota: held.quota } : {}),
    });
  } catch (e) {
    host.logger.error({ err: e, view: host.viewId, upload: state.name, ref: entry.ref }, 'the upload receiver could not open a session');
    host.fail(state, entry, ENTRY_ERRORS.EXTERNAL_METADATA_FAILURE, e instanceof Error ? e.message : String(e));
    return {};
  }
  held?.handedOver();
  const binding: ReceiverBinding = { token: minted.token, complete: false, unbind: () => undefined };
  binding.unbind = link.bind(minted.id, {
    progress: (offset, total) => {
      const pct = Math.min(99, Math.floor((offset / Math.max(total, 1)) * 100));
      if (pct <= entry.progress) return;
      void host.update(async () => {
        if (!host.live(state, entry) || entry.done || pct <= entry.progress) return;
        entry.progress = pct;
        await host.notify(state, entry);
      });
    },
    complete: (meta) => {
      binding.complete = true;
      void host.update(async () => {
        if (!host.live(state, entry)) return;
        entry.meta = { ...entry.meta, ...meta };
        entry.bytesComplete = true;
        entry.progress = 100;
        entry.done = true;
        await host.notify(state, entry);
      });
    },
    error: (reason, cause) => {
      void host.update(async () => {
        if (!host.live(state, entry)) return;
        host.fail(state, entry, entryReason(reason), cause instanceof Error ? cause.message : undefined);
        await host.notify(state, entry);
      });
    },
  });
  // On shared sessions a node that dies mid-chunk holds the upload until its lease lapses
  // (5 s): UpChunk's default 5 attempts a second apart might give up first.
  const attempts = options.attempts ?? (link.registry.shared ? SHARED_ATTEMPTS : undefined);
  entry.meta = {
    uploader: options.uploader ?? 'UpChunk',
    endpoint: minted.endpoint,
    chunkSize: options.chunkSizeKiB,
    ...(attempts !== undefined ? { attempts } : {}),
    ...(options.delayBeforeAttempt !== undefined ? { delayBeforeAttempt: options.delayBeforeAttempt } : {}),
  };
  return { meta: entry.meta, binding };
}
