/**
 * What several Inlet nodes share about uploads: a per-upload lock, quota
 * counters and the resumable upload record. Interfaces with in-memory
 * defaults; `@inletjs/redis` implements them on Redis. Re-exports only.
 *
 * @example
 * import { MemoryUploadStateStore, type UploadStateStore } from 'inletjs';
 */
export type { JsonObject, JsonValue } from './json.js';
export { DEFAULT_LOCK_TTL_MS, MemoryLocker, lockToken, type UploadLocker } from './lock.js';
export {
  MemoryQuotaCounter,
  checkQuotaAmount,
  quotaRefusal,
  type QuotaCounter,
  type QuotaLimits,
  type QuotaResult,
  type QuotaUsage,
  type UploadQuota,
} from './quota.js';
export {
  MemoryUploadStateStore,
  type ClaimResult,
  type CommitResult,
  type EndedState,
  type Lease,
  type NewUploadRecord,
  type ReadOptions,
  type UploadChange,
  type UploadPart,
  type UploadStateRecord,
  type UploadState,
  type UploadStateStore,
} from './state-store.js';
