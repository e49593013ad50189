/**
 * The uploads of one view instance: configs by name, entry registration from
 * change events, preflight (`allow_upload`), progress, upload channels,
 * consume and cancel. Client-caused failures become entry errors, never
 * exceptions.
 */
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { InletError } from '../errors.js';
import type { Signer } from '../live/tokens.js';
import type { LiveViewSocket } from '../live/socket.js';
import {
  autoChunkSize,
  autoChunkTimeout,
  entryFromClient,
  resolveOptions,
  validateEntry,
  type EntryState,
  type ResolvedOptions,
} from './config.js';
import { fileSystem } from './file-system.js';
import type {
  ConsumeMeta,
  Postponed,
  UploadApi,
  UploadConfigOptions,
  UploadConfigView,
  UploadEntry,
  UploadErrorReason,
} from './socket-api.js';
import type { UploadWriter } from './writer.js';
import { chunkedOptions, type ChunkedUploadOptions, type ReceiverLink } from './chunked.js';

/** How long a preflight token stays valid. */
export const UPLOAD_TOKEN_TTL_MS = 5 * 60_000;
/** Default most upload channels one view may hold at once. */
export const DEFAULT_MAX_UPLOAD_CHANNELS = 50;
/** Longest client error message kept from `entry.error(msg)`. */
export const MAX_CLIENT_ERROR_LENGTH = 500;

/** What the server provides to uploads. */
export interface UploadHost {
  readonly signer: Signer;
  /** The upload temp folder (created on first use). */
  tmpDir(): Promise<string>;
  readonly maxUploadChannels?: number;
  /** Lifetime of preflight tokens. Default {@link UPLOAD_TOKEN_TTL_MS}. */
  readonly tokenTtlMs?: number;
  /** The built-in resumable receiver, for `chunkedUpload()` presigns. */
  readonly receiver?: ReceiverLink;
}

/** What uploads need from their view instance. */
export interface UploadOwner {
  readonly id: string;
  readonly socket: LiveViewSocket<object>;
  /** Runs `fn` in the view's queue and pushes the resulting diff. */
  update(fn: () => Promise<void> | void): Promise<void>;
}

/** The data inside an upload token. */
export interface UploadTokenData {
  /** view id */
  readonly v: string;
  /** instance nonce: a token from an earlier mount of the same view is refused */
  readonly n: string;
  /** config ref */
  readonly c: string;
  /** entry ref */
  readonly e: string;
}

/** The chunk size and timeout an entry was preflighted with. */
export interface ChunkLimits {
  readonly chunkSize: number;
  readonly chunkTimeout: number;
}

/** An open upload channel, as the manager sees it. */
export interface ChannelHandle {
  /** Closes the channel (client gets phx_close) and cancels its writer unless done. */
  close(): Promise<void>;
}

interface ConfigState {
  readonly name: string;
  readonly ref: string;
  readonly options: ResolvedOptions;
  readonly raw: UploadConfigOptions;
  entries: EntryState[];
  errors: [string, UploadErrorReason][];
  consumed: number;
  cid?: number;
}

interface EntryRuntime {
  channel?: ChannelHandle;
  /** A join holds the entry's channel slot while its writer opens. */
  joining?: boolean;
  writer?: UploadWriter;
  /** A receiver session (chunkedUpload): the server, not the client, reports progress. */
  session?: { token: string; unbind: () => void; complete: boolean };
}

let confCounter = 0;

export class UploadManager implements UploadApi {
  readonly #owner: UploadOwner;
  readonly #host?: UploadHost;
  readonly #byName = new Map<string, ConfigState>();
  readonly #byRef = new Map<string, ConfigState>();
  readonly #runtime = new WeakMap<EntryState, EntryRuntime>();
  readonly nonce = randomBytes(9).toString('base64url');
  #touched = false;
  #channels = 0;

  constructor(owner: UploadOwner, host?: UploadHost) {
    this.#owner = owner;
    this.#host = host;
  }

  // ---------------------------------------------------------------- public API

  allowUpload(name: string, options: UploadConfigOptions = {}): void {
    const existing = this.#byName.get(name);
    if (existing && existing.entries.length > 0) throw new InletError('INLET_ERR_UPLOAD_ACTIVE_ENTRIES', `"${name}"`);
    if (existing) this.#byRef.delete(existing.ref);
    const ref = `phx-${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x')}${(confCounter++).toString(36)}`;
    const state: ConfigState = { name, ref, options: resolveOptions(options), raw: options, entries: [], errors: [], consumed: 0 };
    this.#byName.set(name, state);
    this.#byRef.set(ref, state);
    this.#touched = true;
  }

  disallowUpload(name: string): void {
    const state = this.#config(name);
    if (state.entries.length > 0) throw new InletError('INLET_ERR_UPLOAD_ACTIVE_ENTRIES', `"${name}"`);
    this.#byName.delete(name);
    this.#byRef.delete(state.ref);
    this.#touched = true;
  }

  async cancelUpload(name: string, ref: string): Promise<void> {
    const state = this.#config(name);
    const entry = state.entries.find((e) => e.ref === ref);
    if (!entry) return;
    await this.#drop(state, entry, 'cancel');
  }

  uploadedEntries(name: string): { completed: UploadEntry[]; inProgress: UploadEntry[] } {
    const state = this.#config(name);
    const completed: UploadEntry[] = [];
    const inProgress: UploadEntry[] = [];
    for (const e of state.entries) (e.done ? completed : inProgress).push(snapshot(e));
    return { completed, inProgress };
  }

  async consumeUploadedEntries<T>(
    name: string,
    fn: (meta: ConsumeMeta, entry: UploadEntry) => T | Postponed<T> | Promise<T | Postponed<T>>,
  ): Promise<T[]> {
    const state = this.#config(name);
    const results: T[] = [];
    for (const entry of state.entries.filter((e) => e.done)) results.push(await this.#consume(state, entry, fn));
    return results;
  }

  async consumeUploadedEntry<T>(
    name: string,
    entryOrRef: UploadEntry | string,
    fn: (meta: ConsumeMeta, entry: UploadEntry) => T | Postponed<T> | Promise<T | Postponed<T>>,
  ): Promise<T> {
    const state = this.#config(name);
    const ref = typeof entryOrRef === 'string' ? entryOrRef : entryOrRef.ref;
    const entry = state.entries.find((e) => e.ref === ref);
    if (!entry) throw new InletError('INLET_ERR_UPLOAD_UNKNOWN_ENTRY', `"${ref}" in "${name}"`);
    if (!entry.done) throw new InletError('INLET_ERR_UPLOAD_NOT_DONE', `"${ref}" in "${name}"`);
    return this.#consume(state, entry, fn);
  }

  async #consume<T>(
    state: ConfigState,
    entry: EntryState,
    fn: (meta: ConsumeMeta, entry: UploadEntry) => T | Postponed<T> | Promise<T | Postponed<T>>,
  ): Promise<T> {
    const runtime = this.#runtime.get(entry);
    const writerMeta = runtime?.writer?.meta() ?? entry.meta ?? {};
    const meta = { ...writerMeta, fileSystem } as ConsumeMeta;
    const result = await fn(meta, snapshot(entry));
    if (isPostponed(result)) return result.value;
    await this.#drop(state, entry, 'consumed');
    if (typeof writerMeta.path === 'string' && (runtime?.writer || runtime?.session)) await unlink(writerMeta.path).catch(() => undefined);
    return result;
  }

  // ------------------------------------------------------------ for templates

  /** Configs as templates see them. */
  views(): Record<string, UploadConfigView> {
    const out: Record<string, UploadConfigView> = {};
    for (const s of this.#byName.values()) {
      out[s.name] = {
        name: s.name,
        ref: s.ref,
        accept: s.options.accept,
        maxEntries: s.options.maxEntries,
        maxFileSize: s.options.maxFileSize,
        autoUpload: s.options.autoUpload,
        entries: s.entries.map(snapshot),
        errors: s.errors.map(([r, e]) => [r, e] as const),
      };
    }
    return out;
  }

  /** Whether upload state changed since the last call (the view re-renders). */
  touched(): boolean {
    const t = this.#touched;
    this.#touched = false;
    return t;
  }

  // ------------------------------------------------------------ client events

  /** Registers entries reported by a `phx-change` event (`uploads` field). */
  registerFromChange(uploads: Record<string, unknown>, cid?: number): void {
    for (const [confRef, list] of Object.entries(uploads)) {
      const state = this.#byRef.get(confRef);
      if (!state || !Array.isArray(list)) continue;
      if (cid !== undefined) state.cid = cid;
      this.#putEntries(state, list);
    }
  }

  #putEntries(state: ConfigState, list: readonly unknown[]): void {
    const known = new Set(state.entries.map((e) => e.ref));
    const fresh: EntryState[] = [];
    const cap = state.options.maxEntries + state.options.maxExcessEntries;
    for (const raw of list) {
      const entry = entryFromClient(raw, state);
      if (!entry || known.has(entry.ref)) continue;
      known.add(entry.ref);
      fresh.push(entry);
      if (fresh.length > cap) break;
    }
    if (fresh.length === 0) return;
    if (state.options.maxEntries === 1 && fresh.length === 1) {
      for (const old of [...state.entries]) void this.#drop(state, old, 'cancel');
    }
    for (const entry of fresh) {
      if (state.entries.length >= cap) break;
      const reason = validateEntry(entry, state.options, state.raw.validator);
      if (reason) {
        entry.valid = false;
        entry.errors.push(reason);
        state.errors.push([entry.ref, reason]);
      }
      state.entries.push(entry);
    }
    this.#recountTooMany(state);
    this.#touched = true;
  }

  #recountTooMany(state: ConfigState): void {
    const used = (state.options.maxEntriesMode === 'total' ? state.consumed : 0) + state.entries.length;
    const has = state.errors.some(([r, e]) => r === state.ref && e === 'too_many_files');
    if (used > state.options.maxEntries && !has) state.errors.push([state.ref, 'too_many_files']);
    if (used <= state.options.maxEntries && has) state.errors = state.errors.filter(([r, e]) => !(r === state.ref && e === 'too_many_files'));
  }

  /** Handles `allow_upload`: registers, picks the entries that may upload, and answers tokens or presigned metadata. */
  async preflight(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = typeof payload.ref === 'string' ? payload.ref : '';
    const state = this.#byRef.get(ref);
    if (!state) return { ref, error: [[ref, 'disallowed']] };
    if (typeof payload.cid === 'number') state.cid = payload.cid;
    const requested = Array.isArray(payload.entries) ? payload.entries : [];
    this.#putEntries(state, requested);
    this.#touched = true;
    if (!state.options.autoUpload && state.errors.length > 0) {
      return { ref, error: state.errors.map(([r, reason]) => [r, reason]) };
    }
    const wanted = new Set(
      requested.map((r) => (typeof r === 'object' && r !== null ? (r as Record<string, unknown>).ref : undefined)).filter((r): r is string => typeof r === 'string'),
    );
    const remaining = state.options.maxEntries - (state.options.maxEntriesMode === 'total' ? state.consumed : 0);
    const entries: Record<string, unknown> = {};
    const errors: Record<string, string[]> = {};
    const failures: [string, unknown][] = [];
    const largest = Math.max(0, ...state.entries.filter((e) => wanted.has(e.ref) && e.valid).map((e) => e.clientSize));
    const chunkSize = state.options.chunkSize === 'auto' ? autoChunkSize(largest) : state.options.chunkSize;
    const chunkTimeout = state.options.chunkTimeout === 'auto' ? autoChunkTimeout(chunkSize) : state.options.chunkTimeout;
    for (let i = 0; i < state.entries.length; i++) {
      const entry = state.entries[i] as EntryState;
      if (!wanted.has(entry.ref) || i >= remaining) continue;
      if (!entry.valid) {
        errors[entry.ref] = [...entry.errors];
        continue;
      }
      if (entry.preflighted && !state.raw.external) continue;
      entry.preflighted = true;
      if (state.raw.external) {
        const meta = await this.#presign(state, entry);
        if (meta) entries[entry.ref] = meta;
        else {
          errors[entry.ref] = [...entry.errors];
          failures.push([entry.ref, { reason: entry.errorMessage ?? 'external_metadata_failure' }]);
        }
      } else {
        entry.chunkSize = chunkSize;
        entry.chunkTimeout = chunkTimeout;
        entries[entry.ref] = this.#token(state, entry);
      }
    }
    if (failures.length > 0 && !state.options.autoUpload) return { ref, error: failures };
    return {
      ref,
      config: {
        max_file_size: state.options.maxFileSize,
        max_entries: state.options.maxEntries,
        chunk_size: chunkSize,
        chunk_timeout: chunkTimeout,
      },
      entries,
      errors,
    };
  }

  async #presign(state: ConfigState, entry: EntryState): Promise<Record<string, unknown> | undefined> {
    const external = state.raw.external;
    if (!external) return undefined;
    const chunked = chunkedOptions(external);
    if (chunked) return this.#mintSession(state, entry, chunked);
    try {
      const meta = await external(snapshot(entry), this.#owner.socket as LiveViewSocket<never>);
      if (typeof meta !== 'object' || meta === null || typeof meta.uploader !== 'string' || meta.uploader.length === 0) {
        throw new InletError('INLET_ERR_UPLOAD_OPTION', 'external must return metadata with an "uploader" name.');
      }
      entry.meta = { ...meta };
      return entry.meta;
    } catch (e) {
      console.error(`[inlet] presign for upload "${state.name}" failed`, e);
      this.#fail(state, entry, 'external_metadata_failure', e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  #mintSession(state: ConfigState, entry: EntryState, options: ChunkedUploadOptions): Record<string, unknown> | undefined {
    const link = this.#host?.receiver;
    if (!link) {
      this.#fail(state, entry, 'external_metadata_failure', 'this server has no upload receiver');
      return undefined;
    }
    const previous = this.#runtime.get(entry)?.session;
    if (previous) {
      previous.unbind();
      void link.registry.cancel(previous.token);
    }
    const minted = link.registry.mint({
      maxSize: entry.clientSize,
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      ...(options.store ? { store: options.store } : {}),
      ...(entry.clientType ? { contentType: entry.clientType } : {}),
      entry: { viewId: this.#owner.id, confRef: state.ref, entryRef: entry.ref },
    });
    const session = { token: minted.token, complete: false, unbind: () => undefined as void };
    session.unbind = link.bind(minted.id, {
      progress: (offset, total) => {
        const pct = Math.min(99, Math.floor((offset / Math.max(total, 1)) * 100));
        if (pct <= entry.progress) return;
        void this.#owner.update(async () => {
          if (!state.entries.includes(entry) || entry.done || pct <= entry.progress) return;
          entry.progress = pct;
          this.#touched = true;
          await state.raw.progress?.(state.name, snapshot(entry), this.#owner.socket as LiveViewSocket<never>);
        });
      },
      complete: (meta) => {
        session.complete = true;
        void this.#owner.update(async () => {
          if (!state.entries.includes(entry)) return;
          entry.meta = { ...entry.meta, ...meta };
          entry.bytesComplete = true;
          entry.progress = 100;
          entry.done = true;
          this.#touched = true;
          await state.raw.progress?.(state.name, snapshot(entry), this.#owner.socket as LiveViewSocket<never>);
        });
      },
      error: (reason, cause) => {
        void this.#owner.update(async () => {
          if (!state.entries.includes(entry)) return;
          const message = cause instanceof Error ? cause.message : undefined;
          this.#fail(state, entry, reason === 'too_large' ? 'too_large' : reason === 'expired' ? 'chunk_timeout' : 'writer_failure', message);
          await state.raw.progress?.(state.name, snapshot(entry), this.#owner.socket as LiveViewSocket<never>);
        });
      },
    });
    this.#runtime.set(entry, { ...this.#runtime.get(entry), session });
    entry.meta = {
      uploader: options.uploader ?? 'UpChunk',
      endpoint: minted.endpoint,
      chunkSize: options.chunkSizeKiB,
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.delayBeforeAttempt !== undefined ? { delayBeforeAttempt: options.delayBeforeAttempt } : {}),
    };
    return entry.meta;
  }

  #token(state: ConfigState, entry: EntryState): string {
    if (!this.#host) throw new InletError('INLET_ERR_UPLOAD_OPTION', 'uploads need a server (no upload host).');
    const data: UploadTokenData = { v: this.#owner.id, n: this.nonce, c: state.ref, e: entry.ref };
    return this.#host.signer.sign('upload', data, this.#host.tokenTtlMs ?? UPLOAD_TOKEN_TTL_MS);
  }

  /** Handles a `progress` push. */
  async progress(payload: Record<string, unknown>): Promise<void> {
    const state = typeof payload.ref === 'string' ? this.#byRef.get(payload.ref) : undefined;
    const entry = state?.entries.find((e) => e.ref === payload.entry_ref);
    if (!state || !entry) return;
    const value = payload.progress;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const raw = (value as Record<string, unknown>).error;
      const message = typeof raw === 'string' ? raw.slice(0, MAX_CLIENT_ERROR_LENGTH) : 'failed';
      if (state.raw.external) this.#fail(state, entry, 'external_client_failure', message);
      else if (entry.valid && !entry.done) entry.errorMessage ??= message;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      if (this.#runtime.get(entry)?.session) return;
      const pct = Math.max(0, Math.min(100, Math.floor(value)));
      if (!entry.valid || entry.done || pct <= entry.progress) return;
      if (pct === 100 && !state.raw.external && !entry.bytesComplete) {
        entry.progress = 99;
      } else {
        entry.progress = pct;
        if (pct === 100) entry.done = true;
      }
    } else return;
    this.#touched = true;
    await state.raw.progress?.(state.name, snapshot(entry), this.#owner.socket as LiveViewSocket<never>);
  }

  #fail(state: ConfigState, entry: EntryState, reason: UploadErrorReason, message?: string): void {
    entry.valid = false;
    if (!entry.errors.includes(reason)) entry.errors.push(reason);
    if (message !== undefined) entry.errorMessage = message;
    if (!state.errors.some(([r, e]) => r === entry.ref && e === reason)) state.errors.push([entry.ref, reason]);
    this.#touched = true;
  }

  // ------------------------------------------------------------ upload channels

  /**
   * Resolves a verified token to its entry for a joining upload channel, or
   * the reason to refuse the join.
   */
  entryForChannel(token: UploadTokenData, topicRef: string): { entry: EntryState; limits: ChunkLimits; name: string } | { reason: string } {
    if (token.n !== this.nonce || token.e !== topicRef) return { reason: 'invalid_token' };
    const state = this.#byRef.get(token.c);
    const entry = state?.entries.find((e) => e.ref === token.e);
    if (!state || !entry || !entry.valid || !entry.preflighted || entry.cancelled || state.raw.external) return { reason: 'disallowed' };
    const runtime = this.#runtime.get(entry);
    if (runtime?.channel || runtime?.joining || entry.received > 0 || entry.done) return { reason: 'already_registered' };
    if (this.#channels >= (this.#host?.maxUploadChannels ?? DEFAULT_MAX_UPLOAD_CHANNELS)) return { reason: 'too_many_channels' };
    // Reserve the slot now: the join awaits the writer before it attaches, and
    // joins that arrive together must neither pass the limit nor bind twice.
    this.#channels++;
    this.#runtime.set(entry, { ...runtime, joining: true });
    const chunkSize = entry.chunkSize ?? (state.options.chunkSize === 'auto' ? autoChunkSize(entry.clientSize) : state.options.chunkSize);
    return { entry, limits: { chunkSize, chunkTimeout: entry.chunkTimeout ?? autoChunkTimeout(chunkSize) }, name: state.name };
  }

  /** Creates the writer for an entry (the config's `writer`, or a temp file). */
  async createWriter(name: string, entry: EntryState, fallback: (dir: string) => UploadWriter): Promise<UploadWriter> {
    const state = this.#config(name);
    const custom = state.raw.writer;
    const writer = custom ? custom(name, snapshot(entry), this.#owner.socket as LiveViewSocket<never>) : fallback(await this.#tmpDir());
    return writer;
  }

  async #tmpDir(): Promise<string> {
    if (!this.#host) throw new InletError('INLET_ERR_UPLOAD_OPTION', 'uploads need a server (no upload host).');
    return this.#host.tmpDir();
  }

  /** Binds a joined channel to the entry whose slot {@link entryForChannel} reserved. */
  attachChannel(entry: EntryState, channel: ChannelHandle, writer: UploadWriter): void {
    this.#runtime.set(entry, { ...this.#runtime.get(entry), channel, writer, joining: false });
  }

  /** Gives back a slot reserved for a join that failed. */
  releaseReservation(entry: EntryState): void {
    const runtime = this.#runtime.get(entry);
    if (!runtime?.joining) return;
    runtime.joining = false;
    this.#channels--;
  }

  detachChannel(entry: EntryState): void {
    const runtime = this.#runtime.get(entry);
    if (runtime?.channel) {
      runtime.channel = undefined;
      this.#channels--;
    }
  }

  /** Records a failure seen by an upload channel and re-renders. */
  channelFailed(entry: EntryState, reason: UploadErrorReason, message?: string): void {
    const state = this.#byRef.get(entry.uploadRef);
    if (!state || !state.entries.includes(entry)) return;
    void this.#owner.update(async () => {
      this.#fail(state, entry, reason, message);
      await state.raw.progress?.(state.name, snapshot(entry), this.#owner.socket as LiveViewSocket<never>);
    });
  }

  // ------------------------------------------------------------ teardown

  async #drop(state: ConfigState, entry: EntryState, why: 'cancel' | 'consumed'): Promise<void> {
    const i = state.entries.indexOf(entry);
    if (i < 0) return;
    state.entries.splice(i, 1);
    entry.cancelled = why === 'cancel';
    state.errors = state.errors.filter(([r]) => r !== entry.ref);
    if (why === 'consumed') state.consumed++;
    this.#recountTooMany(state);
    this.#touched = true;
    const runtime = this.#runtime.get(entry);
    if (runtime?.session) {
      runtime.session.unbind();
      await this.#host?.receiver?.registry.cancel(runtime.session.token);
      if (why === 'cancel' && runtime.session.complete && typeof entry.meta?.path === 'string') await unlink(entry.meta.path).catch(() => undefined);
    }
    if (runtime?.channel) await runtime.channel.close();
    else if (runtime?.writer && why === 'cancel' && !entry.bytesComplete) await runtime.writer.close('cancel');
    if (why === 'cancel' && entry.bytesComplete) {
      const path = runtime?.writer?.meta().path;
      if (typeof path === 'string') await unlink(path).catch(() => undefined);
    }
  }

  /** The view ended: close channels and remove every temp file not consumed. */
  async release(): Promise<void> {
    for (const state of this.#byName.values()) {
      for (const entry of [...state.entries]) await this.#drop(state, entry, 'cancel');
    }
  }

  #config(name: string): ConfigState {
    const state = this.#byName.get(name);
    if (!state) throw new InletError('INLET_ERR_UPLOAD_NOT_ALLOWED', `"${name}"`);
    return state;
  }
}

function isPostponed<T>(v: T | Postponed<T>): v is Postponed<T> {
  return typeof v === 'object' && v !== null && (v as Postponed<T>).postpone === true && 'value' in (v as object);
}

/** A frozen copy of an entry for user code. */
function snapshot(e: EntryState): UploadEntry {
  return Object.freeze({
    ref: e.ref,
    uploadRef: e.uploadRef,
    uploadConfig: e.uploadConfig,
    uuid: e.uuid,
    clientName: e.clientName,
    clientRelativePath: e.clientRelativePath,
    clientSize: e.clientSize,
    clientType: e.clientType,
    ...(e.clientLastModified !== undefined ? { clientLastModified: e.clientLastModified } : {}),
    ...(e.clientMeta !== undefined ? { clientMeta: e.clientMeta } : {}),
    progress: e.progress,
    preflighted: e.preflighted,
    done: e.done,
    cancelled: e.cancelled,
    valid: e.valid,
    errors: [...e.errors],
    ...(e.errorMessage !== undefined ? { errorMessage: e.errorMessage } : {}),
    ...(e.meta !== undefined ? { meta: { ...e.meta } } : {}),
  });
}
