/**
 * The receiver's session vocabulary: defaults, options, outcomes and the
 * listeners' view of a session. Pure types and constants.
 */
import type { PubSub } from '../../live/pubsub.js';
import type { Logger } from '../../logger.js';
import type { QuotaCounter } from '../cluster/quota.js';
import type { UploadStateStore } from '../cluster/state-store.js';
import type { UploadStore } from '../store.js';

/** URL path under which session endpoints are minted and served. */
export const DEFAULT_BASE_PATH = '/_inlet/uploads';
/** A session expires this long after it was minted or last received bytes. */
export const DEFAULT_SESSION_TTL_MS = 15 * 60 * 1000;
/** How often the sweeper looks for expired sessions. */
export const DEFAULT_SWEEP_INTERVAL_MS = 30 * 1000;
/** How long an ended session still answers 410 instead of 404. */
export const DEFAULT_TOMBSTONE_TTL_MS = 60 * 60 * 1000;
/**
 * How long a node holds an upload's lease while it stores one chunk, on a
 * shared state store. It is renewed every third of this while a write runs,
 * so this bounds how long a node that died mid-chunk blocks the upload.
 */
export const DEFAULT_SHARED_LEASE_MS = 5_000;
/** The lease on an in-process state store: only this process could hold it, so it never needs to lapse early. */
export const DEFAULT_LOCAL_LEASE_MS = 10 * 60 * 1000;
/** Random bytes in a token (base64url-encoded to 32 characters). */
export const TOKEN_BYTES = 24;
/** Longest accepted `contentType` passed to `mint`. */
export const MAX_CONTENT_TYPE_LENGTH = 255;
/** Most bytes handed to `checkFirstBytes`. */
export const FIRST_BYTES = 64 * 1024;

/**
 * Why a session failed, as reported to `SessionRegistry.onError`. The names
 * match LiveView's upload error reasons where one exists.
 */
export const RECEIVER_ERROR_REASONS = ['too_large', 'writer_error', 'expired', 'not_accepted', 'quota_exceeded'] as const;
export type ReceiverErrorReason = (typeof RECEIVER_ERROR_REASONS)[number];

/** Lifecycle of a session. Only `open` sessions accept bytes. */
export type SessionState = 'open' | 'complete' | 'expired' | 'cancelled' | 'failed';

/** The LiveView upload entry a session belongs to. */
export interface UploadEntryRef {
  readonly viewId: string;
  readonly confRef: string;
  readonly entryRef: string;
}

/** A read-only view of one session, as given to listeners. */
export interface UploadSession {
  /** Stable non-secret id (the store's file name / object key seed). */
  readonly id: string;
  readonly entry: UploadEntryRef;
  readonly maxSize: number;
  readonly contentType: string | undefined;
  /** Bytes durably stored, always a prefix of the file. */
  readonly offset: number;
  /** File size declared by the client's first chunk; `undefined` before it. */
  readonly total: number | undefined;
  /** Epoch ms after which the session is expired (extended on every accepted chunk). */
  readonly expiresAt: number;
  readonly state: SessionState;
}

/**
 * A quota the session's bytes count against: `reserved` bytes were reserved
 * (at preflight, under `key`); a chunk that would take the upload past them
 * reserves the rest of its declared size there, or fails with `quota_exceeded`.
 */
export interface SessionQuota {
  /** The counter the reservation was made on (used on one node; shared registries use their own `quota`). */
  readonly counter: QuotaCounter;
  readonly key: string;
  readonly reserved: number;
  readonly maxBytes?: number | undefined;
  readonly maxFiles?: number | undefined;
  readonly periodMs?: number | undefined;
}

/** Options of `SessionRegistry.mint`. */
export interface MintOptions {
  /** Largest file the client may declare, in bytes; a larger `Content-Range` total answers 413. */
  maxSize: number;
  /** Idle lifetime; default: the registry's `ttlMs`. */
  ttlMs?: number;
  entry: UploadEntryRef;
  /** Store for this session; default: the registry's store. On a shared registry it must be that store. */
  store?: UploadStore;
  /** MIME type recorded by the store (e.g. S3 `ContentType`). */
  contentType?: string;
  /**
   * Checks the upload's first bytes (up to {@link FIRST_BYTES}) before any is
   * stored: resolve to a message to refuse the upload (415, the session fails
   * with `not_accepted`), or undefined to go on. Used for content sniffing.
   * It runs on the node that minted the session, wherever the bytes arrive.
   */
  checkFirstBytes?: (head: Buffer) => Promise<string | undefined>;
  /** Quota of the upload's bytes (needs the registry's `quota` counter). */
  quota?: SessionQuota;
}

/** What `SessionRegistry.mint` hands to the client's uploader. */
export interface MintedSession {
  /** Unguessable secret naming the session; it is the last path segment of `endpoint`. */
  readonly token: string;
  /** URL (or path) the client sends its chunks to. */
  readonly endpoint: string;
  /** The session's non-secret id. */
  readonly id: string;
}

/** Options of `SessionRegistry`. */
export interface SessionRegistryOptions {
  /** Default store of minted sessions. */
  store: UploadStore;
  /**
   * Where sessions live. Default: in this process (`MemoryUploadStateStore`).
   * A shared one (`RedisUploadStateStore`) lets any node take any chunk of
   * any upload; it needs a shared `store` and the app's `pubsub`.
   */
  states?: UploadStateStore;
  /** How events reach the node that minted a session; needed with shared `states`. */
  pubsub?: PubSub;
  /** Counts bytes past a session's reservation (see {@link SessionQuota}); shared by every node. */
  quota?: QuotaCounter;
  /** Lease per chunk; default {@link DEFAULT_SHARED_LEASE_MS} on shared states, {@link DEFAULT_LOCAL_LEASE_MS} otherwise. */
  leaseMs?: number;
  /** Path prefix of endpoints; default {@link DEFAULT_BASE_PATH}. */
  basePath?: string;
  /** Scheme and host put before `basePath` in endpoints, for a receiver on another origin; default none (a path). */
  origin?: string;
  /** Default idle lifetime of sessions; default {@link DEFAULT_SESSION_TTL_MS}. */
  ttlMs?: number;
  /** Sweeper period; default {@link DEFAULT_SWEEP_INTERVAL_MS}; 0 disables the timer (call `sweep()` yourself). */
  sweepIntervalMs?: number;
  /** How long ended sessions answer 410; default {@link DEFAULT_TOMBSTONE_TTL_MS}. */
  tombstoneTtlMs?: number;
  /** Clock, for tests; default `Date.now`. */
  now?: () => number;
  /** Where store failures and throwing listeners are reported; default: the built-in stderr logger. */
  logger?: Logger;
}

/**
 * The result of offering bytes (or a status query) to a session. Every
 * client-caused failure is one of these values; `http.ts` turns them into
 * status codes.
 */
export type ChunkOutcome =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'gone'; readonly state: Exclude<SessionState, 'open'> }
  | { readonly kind: 'too_large'; readonly maxSize: number }
  | { readonly kind: 'total_mismatch'; readonly total: number }
  | { readonly kind: 'gap'; readonly offset: number }
  | { readonly kind: 'rejected'; readonly message: string }
  | { readonly kind: 'not_accepted'; readonly message: string }
  | { readonly kind: 'quota_exceeded'; readonly message: string }
  | { readonly kind: 'incomplete'; readonly offset: number; readonly total: number }
  | { readonly kind: 'complete'; readonly total: number }
  | { readonly kind: 'unavailable'; readonly offset: number }
  /** Another request (on this node or another) is storing a chunk of this upload: retry shortly. */
  | { readonly kind: 'busy' }
  | { readonly kind: 'failed' };

export type ProgressListener = (session: UploadSession, offset: number, total: number) => void;
export type CompleteListener = (session: UploadSession, meta: Record<string, unknown>) => void;
export type ErrorListener = (session: UploadSession, reason: ReceiverErrorReason, cause?: unknown) => void;
