/**
 * Preflight (`allow_upload`) of one view's uploads: registers the entries
 * the client names, picks those that may upload (entry limits, validity,
 * quota), and builds the reply: a token per entry for the upload channel,
 * Inlet-uploader metadata, or presigned metadata for external uploads.
 * Client-caused failures are errors in the reply, never exceptions.
 */
import { isPlainObject } from '../protocol/frames.js';
import type { EntryState } from './config.js';
import { applyInletChunking, officialChunking } from './chunking.js';
import { presign, type ExternalHost, type ReceiverBinding } from './external.js';
import { INLET_UPLOADER_NAME, INLET_UPLOADER_PARAM, INLET_UPLOADER_VERSION } from './inlet-wire.js';
import type { QuotaHolds } from './quota-holds.js';
import { ENTRY_ERRORS, UPLOAD_REASONS } from './reasons.js';
import type { UploadErrorReason } from './socket-api.js';
import type { ConfigState } from './state.js';

/** What a preflight needs from the upload manager. */
export interface PreflightHost {
  /** The view socket's connect params (the Inlet uploader announces itself there). */
  readonly connectParams?: Readonly<Record<string, string>>;
  readonly external: ExternalHost;
  /** Receiver sessions bound to entries (external `chunkedUpload()` uploads). */
  readonly sessions: WeakMap<EntryState, ReceiverBinding>;
  readonly quota: QuotaHolds;
  /** The config whose ref the client sent, if it is allowed. */
  byRef(ref: string): ConfigState | undefined;
  /** Registers the client's entries with the config. */
  put(state: ConfigState, list: readonly unknown[]): void;
  /** Marks the config changed (its owner renders again). */
  touch(state: ConfigState): void;
  /** Marks the entry failed and the config changed. */
  fail(state: ConfigState, entry: EntryState, reason: UploadErrorReason, message?: string): void;
  /** The signed upload-channel token of an entry. */
  token(state: ConfigState, entry: EntryState): string;
}

/** Handles `allow_upload`: registers, picks the entries that may upload, and answers tokens or presigned metadata. */
export async function preflightReply(host: PreflightHost, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ref = typeof payload.ref === 'string' ? payload.ref : '';
  const state = host.byRef(ref);
  if (!state) return { ref, error: [[ref, UPLOAD_REASONS.DISALLOWED]] };
  if (typeof payload.cid === 'number') state.cid = payload.cid;
  const requested = Array.isArray(payload.entries) ? payload.entries : [];
  host.put(state, requested);
  host.touch(state);
  if (!state.options.autoUpload && state.errors.length > 0) {
    return { ref, error: state.errors.map(([r, reason]) => [r, reason]) };
  }
  const wanted = new Set(requested.map((r) => (isPlainObject(r) ? r.ref : undefined)).filter((r): r is string => typeof r === 'string'));
  const remaining = state.options.maxEntries - (state.options.maxEntriesMode === 'total' ? state.consumed : 0);
  const entries: Record<string, unknown> = {};
  const errors: Record<string, string[]> = {};
  const failures: [string, unknown][] = [];
  const largest = Math.max(0, ...state.entries.filter((e) => wanted.has(e.ref) && e.valid).map((e) => e.clientSize));
  const { chunkSize, chunkTimeout } = officialChunking(state, largest);
  for (let i = 0; i < state.entries.length; i++) {
    const entry = state.entries[i] as EntryState;
    if (!wanted.has(entry.ref) || i >= remaining) continue;
    if (!entry.valid) {
      errors[entry.ref] = [...entry.errors];
      continue;
    }
    if (entry.preflighted && !state.raw.external) continue;
    const refusal = await host.quota.reserve(state, entry);
    if (refusal !== undefined) {
      host.fail(state, entry, ENTRY_ERRORS.QUOTA_EXCEEDED, refusal);
      errors[entry.ref] = [...entry.errors];
      continue;
    }
    entry.preflighted = true;
    if (state.raw.external) {
      const { meta, binding } = await presign(host.external, state, entry, host.sessions.get(entry));
      if (binding) host.sessions.set(entry, binding);
      if (meta) entries[entry.ref] = meta;
      else {
        errors[entry.ref] = [...entry.errors];
        failures.push([entry.ref, { reason: entry.errorMessage ?? ENTRY_ERRORS.EXTERNAL_METADATA_FAILURE }]);
      }
    } else if (inletUploader(host, state)) {
      entries[entry.ref] = inletMeta(host, state, entry);
    } else {
      entry.chunkSize = chunkSize;
      entry.chunkTimeout = chunkTimeout;
      entries[entry.ref] = host.token(state, entry);
    }
  }
  if (failures.length > 0 && !state.options.autoUpload) return { ref, error: failures };
  return {
    ref,
    config: { max_file_size: state.options.maxFileSize, max_entries: state.options.maxEntries, chunk_size: chunkSize, chunk_timeout: chunkTimeout },
    entries,
    errors,
  };
}

/** Whether this page has the Inlet uploader (it connected with `connect()`) and the config lets it be used. */
function inletUploader(host: PreflightHost, state: ConfigState): boolean {
  return host.connectParams?.[INLET_UPLOADER_PARAM] === String(INLET_UPLOADER_VERSION) && state.raw.uploader !== 'channel';
}

/** Preflight metadata naming the Inlet uploader: pipelined, checksummed chunks. */
function inletMeta(host: PreflightHost, state: ConfigState, entry: EntryState): Record<string, unknown> {
  applyInletChunking(state, entry);
  return {
    uploader: INLET_UPLOADER_NAME,
    v: INLET_UPLOADER_VERSION,
    token: host.token(state, entry),
    chunk_size: entry.chunkSize,
    window: entry.window,
  };
}
