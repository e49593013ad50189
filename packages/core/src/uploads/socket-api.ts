/**
 * The public upload types: options, entries, configs as templates see them,
 * and the upload methods of the view socket.
 */
import type { UploadQuota } from './cluster/quota.js';
import type { LiveViewSocket } from '../live/socket.js';
import type { UploadStore } from './store.js';
import type { UploadWriter } from './writer.js';
import type { FileSystemHelpers } from './file-system.js';
import type { SniffOption } from './sniff.js';

/**
 * Reasons an entry or config can fail, as LiveView names them.
 *
 * @example
 * validator: (entry): UploadErrorReason | undefined => (entry.clientName.endsWith('.exe') ? 'not_accepted' : undefined)
 */
export type UploadErrorReason =
  | 'too_large'
  | 'not_accepted'
  | 'too_many_files'
  | 'external_client_failure'
  | 'writer_failure'
  | 'external_metadata_failure'
  | 'quota_exceeded'
  | (string & {});

/**
 * One file the browser selected.
 *
 * @example
 * const { completed, inProgress } = socket.uploadedEntries('photos')
 * const names = completed.map((entry: UploadEntry) => `${entry.clientName} (${entry.clientSize} bytes)`)
 */
export interface UploadEntry {
  /** The client's ref for this file (unique per page load). */
  readonly ref: string;
  /** The upload config's ref. */
  readonly uploadRef: string;
  /** The upload config's name. */
  readonly uploadConfig: string;
  /** A server-side unique id. */
  readonly uuid: string;
  readonly clientName: string;
  readonly clientRelativePath: string;
  readonly clientSize: number;
  readonly clientType: string;
  readonly clientLastModified?: number;
  readonly clientMeta?: unknown;
  /** 0..100 */
  readonly progress: number;
  readonly preflighted: boolean;
  readonly done: boolean;
  readonly cancelled: boolean;
  readonly valid: boolean;
  /** Error reasons on this entry. */
  readonly errors: readonly UploadErrorReason[];
  /** Message from the client uploader's `entry.error(msg)`, when it gave one. */
  readonly errorMessage?: string;
  /** Metadata the presign hook returned, for external uploads. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * What the `external` presign hook returns. `uploader` names the client uploader.
 *
 * @example
 * async function presign(entry: UploadEntry): Promise<ExternalMeta & { url: string }> {
 *   return { uploader: 'Cloudinary', url: await signedUrlFor(entry.uuid) } // the client's `uploaders.Cloudinary` gets it
 * }
 * socket.allowUpload('photos', { external: presign })
 */
export interface ExternalMeta {
  readonly uploader: string;
}

/**
 * Options of `allowUpload`. `S` is the socket the callbacks get (the view's
 * own socket when called through it), `N` the config's name.
 *
 * @example
 * const photos: UploadConfigOptions = { accept: ['image/*'], maxEntries: 10, maxFileSize: 20_000_000, autoUpload: true }
 * socket.allowUpload('photos', photos)
 */
export interface UploadConfigOptions<S = LiveViewSocket<object>, N extends string = string> {
  /** Extensions (`.png`) and MIME types (`image/png`, `image/*`); `'any'` or an empty list accepts everything. Default `'any'`. */
  accept?: readonly string[] | 'any';
  /** Most entries at once. Default 1. */
  maxEntries?: number;
  /** `'selected'`: consumed entries free their slot. `'total'`: they count until the next `allowUpload`. Default `'selected'`. */
  maxEntriesMode?: 'selected' | 'total';
  /** Largest file in bytes. Default {@link DEFAULT_MAX_FILE_SIZE}. */
  maxFileSize?: number;
  /**
   * Bytes per chunk the browser sends, at most 8 MiB. Default `'auto'`: about 25
   * chunks per file, 64 KiB to 4 MiB, picked at preflight from the largest file.
   */
  chunkSize?: number | 'auto';
  /**
   * Ms without a chunk before an upload is stopped (also the client's wait for
   * each chunk's reply). Default `'auto'`: enough for a chunk at 1 Mbit/s, at least 10 s.
   */
  chunkTimeout?: number | 'auto';
  /**
   * Entries kept beyond `maxEntries` (so the UI can show them with `too_many_files`);
   * more in one change event are ignored. Default 50.
   */
  maxExcessEntries?: number;
  /** Upload as soon as files are selected. */
  autoUpload?: boolean;
  /** Called on every progress update and on failures. */
  progress?: (name: N, entry: UploadEntry, socket: S) => void | Promise<void>;
  /** Returns an error reason to reject an entry, or nothing to accept it. */
  validator?: (entry: UploadEntry) => UploadErrorReason | undefined | void;
  /**
   * Where this config's socket uploads are stored: any `UploadStore` (a
   * `DiskStore` folder of your own, a `MemoryStore`, `S3MultipartStore`…).
   * Default: a temp file in the server's upload folder, handed to consume
   * functions as `meta.path`.
   */
  store?: UploadStore;
  /**
   * LiveView's writer hook: returns the writer that receives one entry's
   * chunks (adapted to the store contract). Takes precedence over `store`.
   */
  writer?: (name: N, entry: UploadEntry, socket: S) => UploadWriter;
  /**
   * Checks the first bytes against `accept` (with `file-type`): a file whose
   * content contradicts its accepted type is refused with `not_accepted` before
   * anything is written. `false` turns it off; a function replaces the check.
   * Default `true`.
   */
  sniff?: SniffOption;
  /**
   * Which in-socket uploader the page is told to use. `'auto'` (default): the
   * Inlet uploader (pipelined, checksummed, resumable) when the page connected
   * with Inlet's `connect()`, else the official one. `'channel'`: always the
   * official one.
   */
  uploader?: 'auto' | 'channel';
  /**
   * Inlet uploader: most bytes sent and not yet acknowledged, per entry (the
   * server caps it at 8 MiB). Default 4 MiB, chosen by measurement; see
   * docs/uploads.md, Measurements.
   */
  window?: number;
  /**
   * Inlet uploader: whether an unfinished upload outlives its view as a
   * resumable session (socket drop, reload, server restart; docs/uploads.md,
   * "Resume"). Configs with a `writer` never resume. Default `true`.
   */
  resume?: boolean;
  /**
   * Counts this config's uploads against an app-supplied key's byte and file
   * quotas (see `UploadQuota`): an entry over quota fails at preflight with
   * `quota_exceeded` and a message saying how much is used. Default: none.
   */
  quota?: UploadQuota;
  /** Presign hook for external uploads: returns client uploader metadata. Throwing fails the entry. */
  external?: (entry: UploadEntry, socket: S) => ExternalMeta | Promise<ExternalMeta>;
}

/**
 * An upload config as templates see it (`meta.uploads.photos`).
 *
 * @example
 * const picker = (photos: UploadConfigView) => html`${liveFileInput(photos)}<p>${photos.entries.length} of ${photos.maxEntries} photos</p>`
 * // render: (assigns, { uploads }) => picker(uploads.photos)
 */
export interface UploadConfigView {
  readonly name: string;
  readonly ref: string;
  readonly accept: readonly string[] | 'any';
  readonly maxEntries: number;
  readonly maxFileSize: number;
  readonly autoUpload: boolean;
  readonly entries: readonly UploadEntry[];
  /** `[ref, reason]` pairs; the ref is an entry ref, or the config ref for `too_many_files`. */
  readonly errors: readonly (readonly [string, UploadErrorReason])[];
}

/**
 * The `meta` handed to consume functions for uploads over the socket.
 *
 * @example
 * await socket.consumeUploadedEntries('photos', async (meta: ConsumeMeta, entry) => {
 *   if (meta.sha256Verified) console.log('intact:', meta.sha256)
 *   return meta.fileSystem.moveInto('./public/uploads', entry.clientName, meta.path)
 * })
 */
export interface ConsumeMeta {
  /** The completed temp file (default store), or what a custom store's `complete` or writer's `meta()` returned. */
  readonly path: string;
  /** SHA-256 of the stored bytes, in hex (default writer). */
  readonly sha256?: string;
  /**
   * True when the browser's own SHA-256 of the file (Inlet uploader) matched
   * the stored bytes; false when only the server hashed them (official uploader).
   */
  readonly sha256Verified?: boolean;
  /** Helpers to move the file safely. */
  readonly fileSystem: FileSystemHelpers;
  readonly [key: string]: unknown;
}

/**
 * Return this from a consume function to keep the entry (and its file) for later.
 *
 * @example
 * // returned from a consume function: the entry and its file stay for a later consume
 * const later: Postponed<string> = postpone(meta.path)
 */
export interface Postponed<T> {
  readonly postpone: true;
  readonly value: T;
}

/**
 * Keeps an entry instead of consuming it.
 * @example
 * await socket.consumeUploadedEntries('photos', (meta) => (meta.size > 1e6 ? postpone(meta.path) : save(meta.path)))
 */
export function postpone<T>(value: T): Postponed<T> {
  return { postpone: true, value };
}

/** The upload methods of {@link LiveViewSocket}; `U` names the configs, `S` is the socket callbacks get. */
export interface UploadApi<U extends string = string, S = LiveViewSocket<object>> {
  allowUpload<N extends U>(name: N, options?: UploadConfigOptions<S, N>): void;
  disallowUpload(name: U): void;
  cancelUpload(name: U, ref: string): Promise<void>;
  consumeUploadedEntries<T>(name: U, fn: (meta: ConsumeMeta, entry: UploadEntry) => T | Postponed<T> | Promise<T | Postponed<T>>): Promise<T[]>;
  consumeUploadedEntry<T>(
    name: U,
    entry: UploadEntry | string,
    fn: (meta: ConsumeMeta, entry: UploadEntry) => T | Postponed<T> | Promise<T | Postponed<T>>,
  ): Promise<T>;
  uploadedEntries(name: U): { completed: UploadEntry[]; inProgress: UploadEntry[] };
}
