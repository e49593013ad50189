/**
 * How a receiver session is kept in an `UploadStateStore` record, so that
 * any node can continue it: the record id is the SHA-256 of the token (a
 * dump of the store never hands out live endpoints), `owner` holds what was
 * fixed at mint (the entry, the node holding its view, the store's upload
 * id, lifetime, content type, quota key), and `store` what changes as bytes
 * arrive (whether storage was created, the store's own state such as an S3
 * upload id, the running SHA-256, the bytes reserved against the quota).
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../cluster/json.js';
import type { UploadStateRecord } from '../cluster/state-store.js';
import type { UploadRecord } from '../store.js';
import type { SessionSnapshot } from './owner-link.js';
import type { SessionState, UploadSession } from './session-types.js';

/** The record id of a token: base64url SHA-256, never the token itself. */
export function recordId(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** What `owner` holds: fixed at mint. */
export interface SessionOwner extends JsonObject {
  viewId: string;
  confRef: string;
  entryRef: string;
  /** Id of the node that minted the session (where its view lives). */
  node: string;
  /** The store's upload id (non-secret; object keys and file names use it). */
  upload: string;
  ttlMs: number;
  contentType: string | null;
  /** The first bytes must be checked (by the minting node) before any is stored. */
  check: boolean;
  /** Quota key and limits, when the upload counts against one. */
  quota: { key: string; maxBytes: number | null; maxFiles: number | null; periodMs: number | null } | null;
}

/** What `store` holds: replaced by each commit. */
export type SessionStoreState = JsonObject & {
  /** `create` was called on the store (so `abort` is owed). */
  created?: boolean;
  /** What the store's `create` returned, handed back on every later call. */
  state?: { [key: string]: string };
  /** The savable SHA-256 at the record's offset; null once it could not be followed. */
  hash?: string | null;
  /** The first bytes passed the check. */
  checked?: boolean;
  /** Bytes reserved against the quota (the preflight's, plus any taken at a chunk that crossed it). */
  reserved?: number;
};

export const ownerOf = (record: UploadStateRecord): SessionOwner => record.owner as SessionOwner;

/** A copy of the record's store state, to change and commit. */
export const storeStateOf = (record: UploadStateRecord): SessionStoreState => structuredClone(record.store);

/** What the upload store is told about the session. */
export function uploadRecordOf(record: UploadStateRecord, json: SessionStoreState, total?: number): UploadRecord {
  const owner = ownerOf(record);
  return {
    id: owner.upload,
    size: total ?? record.total ?? 0,
    ...(owner.contentType !== null ? { contentType: owner.contentType } : {}),
    ...(json.state ? { state: json.state } : {}),
  };
}

/** The listeners' view of a record, as sent to the owner node. */
export function snapshotOf(record: UploadStateRecord, changes: { offset?: number; total?: number; state?: SessionState; expiresAt?: number } = {}): SessionSnapshot {
  const owner = ownerOf(record);
  const total = changes.total ?? record.total;
  return {
    id: owner.upload,
    viewId: owner.viewId,
    confRef: owner.confRef,
    entryRef: owner.entryRef,
    maxSize: record.maxSize,
    contentType: owner.contentType,
    offset: changes.offset ?? record.offset,
    total: total ?? null,
    expiresAt: changes.expiresAt ?? record.expiresAt,
    state: changes.state ?? record.state,
  };
}

/** A snapshot as listeners see it. */
export function sessionOf(s: SessionSnapshot): UploadSession {
  return {
    id: s.id,
    entry: { viewId: s.viewId, confRef: s.confRef, entryRef: s.entryRef },
    maxSize: s.maxSize,
    contentType: s.contentType ?? undefined,
    offset: s.offset,
    total: s.total ?? undefined,
    expiresAt: s.expiresAt,
    state: s.state as SessionState,
  };
}

/**
 * A store's completion metadata as JSON (what crosses to another node and
 * into the record). Bytes are left out: a store that hands the data itself
 * over (`MemoryStore`) is not one nodes share, and megabytes of it in the
 * record would only slow every node down.
 */
export function jsonMeta(meta: Record<string, unknown>): JsonObject {
  return JSON.parse(
    JSON.stringify(meta, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) return undefined;
      return typeof v === 'bigint' ? String(v) : v;
    }),
  ) as JsonObject;
}
