/**
 * Upload configs and entries as pure state: defaults, option checks, entry
 * registration and validation (protocol.md §5.5). No I/O.
 */
import { randomUUID } from 'node:crypto';
import { boolean, checkOptions, either, func, implementing, integer, list, object, oneOf, string, type Schema } from '../options.js';
import { uploadStoreCheck } from './store.js';
import { ENTRY_ERRORS } from './reasons.js';
import type { UploadConfigOptions, UploadEntry, UploadErrorReason } from './socket-api.js';

/**
 * Default largest file: 8 MB, as LiveView.
 *
 * @example
 * socket.allowUpload('scan', { accept: ['.pdf'], maxFileSize: 4 * DEFAULT_MAX_FILE_SIZE }) // 32 MB
 */
export const DEFAULT_MAX_FILE_SIZE = 8_000_000;
/**
 * Default chunk size: chosen per preflight from the largest file in it (see
 * {@link autoChunkSize}). The official client sends one chunk per round trip,
 * so large chunks carry large files fast, while small files still get a
 * progress bar that moves; docs/uploads.md has the measurements.
 *
 * @example
 * socket.allowUpload('video', { accept: ['video/*'], chunkSize: DEFAULT_CHUNK_SIZE }) // the same as leaving it out
 * socket.allowUpload('logs', { chunkSize: 256 * 1024 }) // a fixed size instead
 */
export const DEFAULT_CHUNK_SIZE = 'auto';
/**
 * Smallest and largest chunk `'auto'` picks.
 *
 * @example
 * autoChunkSize(100_000) === MIN_AUTO_CHUNK_SIZE // 64 KiB for small files
 */
export const MIN_AUTO_CHUNK_SIZE = 64 * 1024;
/**
 * The largest chunk `chunkSize: 'auto'` picks (4 MiB).
 * @example
 * autoChunkSize(10 * 1024 ** 3) === MAX_AUTO_CHUNK_SIZE // 4 MiB for a 10 GiB file
 */
export const MAX_AUTO_CHUNK_SIZE = 4 * 1024 * 1024;
/** `'auto'` aims at about this many chunks per file. */
export const AUTO_CHUNKS_PER_FILE = 25;
/**
 * Default chunk timeout: `'auto'`, see {@link autoChunkTimeout}.
 *
 * @example
 * socket.allowUpload('video', { chunkTimeout: DEFAULT_CHUNK_TIMEOUT }) // the same as leaving it out
 * socket.allowUpload('video', { chunkTimeout: 60_000 }) // a fixed minute per chunk instead
 */
export const DEFAULT_CHUNK_TIMEOUT = 'auto';
/** The shortest automatic chunk timeout (LiveView's default). */
export const MIN_AUTO_CHUNK_TIMEOUT = 10_000;
/** The uplink, per file, that an automatic timeout still allows: 128 KiB/s (about 1 Mbit/s). */
export const AUTO_TIMEOUT_BYTES_PER_SECOND = 128 * 1024;

/**
 * The chunk size for files up to `largest` bytes: a power of two near largest / 25, within 64 KiB–4 MiB.
 * @example
 * autoChunkSize(100 * 1024 * 1024) // 4 MiB
 * autoChunkSize(1024 * 1024)        // 64 KiB
 */
export function autoChunkSize(largest: number): number {
  let size = MIN_AUTO_CHUNK_SIZE;
  while (size < MAX_AUTO_CHUNK_SIZE && size * AUTO_CHUNKS_PER_FILE < largest) size *= 2;
  return size;
}

/**
 * A timeout that lets one chunk cross a 1 Mbit/s uplink: at least 10 s.
 * @example
 * autoChunkTimeout(4 * 1024 * 1024) // 32 s: 4 MiB at 128 KiB/s
 */
export function autoChunkTimeout(chunkSize: number): number {
  return Math.max(MIN_AUTO_CHUNK_TIMEOUT, Math.ceil((chunkSize / AUTO_TIMEOUT_BYTES_PER_SECOND) * 1000));
}
/** Largest chunk size an app may configure (bounded by the socket's frame limit). */
export const MAX_CHUNK_SIZE = 8 * 1024 * 1024;
/** Entries kept beyond `maxEntries` per config; more are ignored (the too_many_files error stays). */
export const MAX_EXCESS_ENTRIES = 50;
/** Longest entry ref accepted from the client. */
export const MAX_REF_LENGTH = 64;
/** Longest client file name kept (longer names are cut; stored names are sanitised separately). */
export const MAX_CLIENT_NAME_LENGTH = 1024;

const MIME_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.svg': 'image/svg+xml', '.avif': 'image/avif', '.bmp': 'image/bmp', '.ico': 'image/x-icon', '.heic': 'image/heic',
  '.pdf': 'application/pdf', '.txt': 'text/plain', '.md': 'text/markdown', '.csv': 'text/csv', '.json': 'application/json',
  '.zip': 'application/zip', '.gz': 'application/gzip', '.tar': 'application/x-tar', '.bin': 'application/octet-stream',
  '.mp4': 'video/mp4', '.webm': 'video/webm', '.mov': 'video/quicktime', '.mp3': 'audio/mpeg', '.wav': 'audio/wav', '.ogg': 'audio/ogg',
  '.doc': 'application/msword', '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel', '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.html': 'text/html', '.xml': 'application/xml',
};

/** Resolved options. */
export interface ResolvedOptions {
  readonly accept: readonly string[] | 'any';
  readonly maxEntries: number;
  readonly maxEntriesMode: 'selected' | 'total';
  readonly maxFileSize: number;
  readonly chunkSize: number | 'auto';
  readonly chunkTimeout: number | 'auto';
  readonly autoUpload: boolean;
  readonly external: boolean;
  readonly maxExcessEntries: number;
}

const QUOTA_COUNTER = implementing('a QuotaCounter', 'reserve', 'release', 'usage');
const ACCEPT_RULE = /^(?:\.[a-z0-9][a-z0-9.+-]*|[a-z]+\/(?:\*|[a-z0-9.+-]+))$/i;
const auto = oneOf('auto');

/** What `allowUpload` accepts; a bad value throws `INLET_ERR_CONFIG_OPTION` naming the option. */
export const UPLOAD_OPTIONS_SCHEMA: Schema = {
  accept: either('"any" or a list of ".ext" / "type/subtype" rules', oneOf('any'), list(string(ACCEPT_RULE, 'a ".ext" or "type/subtype" rule'))),
  maxEntries: integer(1, 10_000),
  maxEntriesMode: oneOf('selected', 'total'),
  maxFileSize: integer(1),
  chunkSize: either(`"auto" or an integer from 1 to ${MAX_CHUNK_SIZE}`, auto, integer(1, MAX_CHUNK_SIZE)),
  chunkTimeout: either('"auto" or a positive integer (ms)', auto, integer(1)),
  maxExcessEntries: integer(0, 100_000),
  autoUpload: boolean,
  progress: func,
  validator: func,
  store: uploadStoreCheck,
  writer: func,
  external: func,
  sniff: either('true, false or a function', boolean, func),
  uploader: oneOf('auto', 'channel'),
  window: integer(64 * 1024, 64 * 1024 * 1024),
  resume: boolean,
  quota: (value, path) => {
    object({ counter: QUOTA_COUNTER, key: string(), maxBytes: integer(0), maxFiles: integer(0), periodMs: integer(1) })(value, path);
    // counter and key are required.
    const q = value as { counter?: unknown; key?: unknown };
    QUOTA_COUNTER(q.counter, `${path}.counter`);
    string()(q.key, `${path}.key`);
  },
};

/**
 * Checks `allowUpload` options and fills in defaults. Throws an
 * `InletOptionError` naming the option (prefixed with `where`) on mistakes.
 */
export function resolveOptions(options: UploadConfigOptions = {}, where = 'allowUpload'): ResolvedOptions {
  checkOptions(options, UPLOAD_OPTIONS_SCHEMA, where);
  const accept = Array.isArray(options.accept) && options.accept.length > 0 ? options.accept : 'any';
  return {
    accept,
    maxEntries: options.maxEntries ?? 1,
    maxEntriesMode: options.maxEntriesMode ?? 'selected',
    maxFileSize: options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
    chunkSize: options.chunkSize ?? 'auto',
    chunkTimeout: options.chunkTimeout ?? 'auto',
    autoUpload: options.autoUpload === true,
    maxExcessEntries: options.maxExcessEntries ?? MAX_EXCESS_ENTRIES,
    external: typeof options.external === 'function',
  };
}

/** Whether a file name and type pass the accept list. */
export function isAccepted(accept: readonly string[] | 'any', name: string, type: string): boolean {
  if (accept === 'any') return true;
  const lowerName = name.toLowerCase();
  const lowerType = type.toLowerCase();
  for (const rule of accept) {
    const r = rule.toLowerCase();
    if (r.startsWith('.')) {
      if (lowerName.endsWith(r)) return true;
      const mime = MIME_BY_EXTENSION[r];
      if (mime && mime === lowerType) return true;
    } else if (r.endsWith('/*')) {
      if (lowerType.startsWith(r.slice(0, -1))) return true;
    } else if (r === lowerType) return true;
  }
  return false;
}

/** A mutable entry, owned by its config. */
export interface EntryState extends UploadEntry {
  progress: number;
  preflighted: boolean;
  done: boolean;
  cancelled: boolean;
  valid: boolean;
  errors: UploadErrorReason[];
  errorMessage?: string;
  meta?: Record<string, unknown>;
  /** Bytes received over the socket. */
  received: number;
  /** All declared bytes arrived and the writer closed. */
  bytesComplete: boolean;
  /** Chunk size and timeout sent at preflight (bytes, ms). */
  chunkSize?: number;
  chunkTimeout?: number;
  /** Bytes in flight the Inlet uploader was given at preflight. */
  window?: number;
  /** The SHA-256 of the stored bytes, once the Inlet uploader's digest matched it. */
  sha256?: string;
  /** True when the browser's SHA-256 of the file matched the stored bytes (Inlet uploader). */
  sha256Verified?: boolean;
}

/** Reads one client entry description; returns undefined when it is unusable (no ref). */
export function entryFromClient(raw: unknown, config: { name: string; ref: string }): EntryState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const ref = r.ref;
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > MAX_REF_LENGTH) return undefined;
  const name = typeof r.name === 'string' ? r.name.slice(0, MAX_CLIENT_NAME_LENGTH) : ref;
  const relativePath = typeof r.relative_path === 'string' ? r.relative_path.slice(0, MAX_CLIENT_NAME_LENGTH) : '';
  const type = typeof r.type === 'string' ? r.type.slice(0, 255) : '';
  const size = typeof r.size === 'number' ? r.size : Number.NaN;
  const lastModified = typeof r.last_modified === 'number' ? r.last_modified : undefined;
  return {
    ref,
    uploadRef: config.ref,
    uploadConfig: config.name,
    uuid: randomUUID(),
    clientName: name,
    clientRelativePath: relativePath,
    clientSize: size,
    clientType: type,
    ...(lastModified !== undefined ? { clientLastModified: lastModified } : {}),
    ...(r.meta !== undefined ? { clientMeta: r.meta } : {}),
    progress: 0,
    preflighted: false,
    done: false,
    cancelled: false,
    valid: true,
    errors: [],
    received: 0,
    bytesComplete: false,
  };
}

/** The first failing check of a new entry, or undefined. */
export function validateEntry(
  entry: EntryState,
  options: ResolvedOptions,
  validator?: (entry: UploadEntry) => UploadErrorReason | undefined | void,
): UploadErrorReason | undefined {
  if (!Number.isSafeInteger(entry.clientSize) || entry.clientSize <= 0) return ENTRY_ERRORS.INVALID_SIZE;
  if (entry.clientSize > options.maxFileSize) return ENTRY_ERRORS.TOO_LARGE;
  if (!isAccepted(options.accept, entry.clientName, entry.clientType)) return ENTRY_ERRORS.NOT_ACCEPTED;
  if (validator) {
    const reason = validator(entry);
    if (typeof reason === 'string' && reason.length > 0) return reason;
  }
  return undefined;
}
