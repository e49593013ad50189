/**
 * The built-in resumable chunk receiver: an UpChunk-compatible HTTP endpoint
 * (`Content-Range` per request, 308 + `Range` while incomplete) with
 * pluggable storage. Re-exports only.
 *
 * @example
 * const sessions = new SessionRegistry({ store: new DiskStore({ dir }) });
 * const receive = createReceiverHandler(sessions);
 * const { endpoint } = sessions.mint({ maxSize, entry: { viewId, confRef, entryRef } });
 */
export { DiskStore, type DiskStoreOptions, type DiskUploadMeta } from '../disk-store.js';
export {
  DEFAULT_BASE_PATH,
  DEFAULT_SESSION_TTL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  DEFAULT_TOMBSTONE_TTL_MS,
  RECEIVER_ERROR_REASONS,
  SessionRegistry,
  TOKEN_BYTES,
  type ChunkOutcome,
  type CompleteListener,
  type ErrorListener,
  type MintOptions,
  type MintedSession,
  type ProgressListener,
  type ReceiverErrorReason,
  type SessionRegistryOptions,
  type SessionState,
  type UploadEntryRef,
  type UploadSession,
} from './sessions.js';
export {
  DEFAULT_CORS_MAX_AGE_S,
  DEFAULT_MAX_CHUNK_BYTES,
  RECEIVER_ERRORS,
  answerFor,
  createReceiverHandler,
  type ReceiverAnswer,
  type ReceiverHandlerOptions,
} from './http.js';
export { parseContentRange, type ByteRange, type ContentRange, type StatusQuery } from './content-range.js';
