/**
 * The uploads of one view instance, as a view extension: the socket's upload
 * API, entry registration from change events, progress, consume and cancel.
 * State rules live in `state.ts`, preflight (`allow_upload`) in
 * `preflight.ts`, channel bookkeeping in `channels.ts`, external presigning
 * in `external.ts`, chunk sizes in `chunking.ts`, quota holds in
 * `quota-holds.ts`.
 * Client-caused failures become entry errors, never exceptions.
 */
import { TRACING, uploadErrorChannel } from '../telemetry/channels.js';
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { InletError } from '../errors.js';
import { isPlainObject } from '../protocol/frames.js';
import type { ExtensionHost, ExtensionInstance } from '../live/extensions.js';
import type { LiveViewSocket } from '../live/socket.js';
import { ChannelSlots, type ChannelHandle, type ChunkLimits, type StoredEntry, type UploadTokenData } from './channels.js';
import type { ReceiverLink } from './chunked.js';
import type { EntryState } from './config.js';
import type { ExternalHost, ReceiverBinding } from './external.js';
import { consumeFileSystem } from './file-system.js';
import type { SniffRules } from './entry-channel.js';
import { preflightReply, type PreflightHost } from './preflight.js';
import { QuotaHolds } from './quota-holds.js';
import { ENTRY_ERRORS, UPLOAD_REASONS } from './reasons.js';
import type { ConsumeMeta, Postponed, UploadApi, UploadConfigOptions, UploadEntry, UploadErrorReason } from './socket-api.js';
import { failEntry, putEntries, removeEntry, snapshot, UploadState, type ConfigState } from './state.js';
import type { ResumeRegistry } from './resume/registry.js';
import type { UploadStore } from './store.js';
import { writerStore } from './writer.js';

export { DEFAULT_MAX_UPLOAD_CHANNELS, type ChannelHandle, type ChunkLimits, type UploadTokenData } from './channels.js';

/** How long a preflight token stays valid. */
export const UPLOAD_TOKEN_TTL_MS = 5 * 60_000;
/** Longest client error message kept from `entry.error(msg)`. */
export const MAX_CLIENT_ERROR_LENGTH = 500;

/** What the server provides to uploads. */
export interface UploadHost {
  /** The default store of socket uploads: temp files in the upload folder (created on first use). */
  defaultStore(): Promise<UploadStore>;
  readonly maxUploadChannels?: number;
  /** Whether upload joins past `maxUploadChannels` wait for a slot (else they are refused). Default false. */
  readonly waitForChannels?: boolean;
  /** Lifetime of preflight tokens. Default {@link UPLOAD_TOKEN_TTL_MS}. */
  readonly tokenTtlMs?: number;
  /** The built-in resumable receiver, for `chunkedUpload()` presigns. */
  readonly receiver?: ReceiverLink;
  /** Resumable sessions of Inlet-uploader uploads (absent: nothing resumes). */
  readonly resume?: ResumeRegistry;
}

type ConsumeFn<T> = (meta: ConsumeMeta, entry: UploadEntry) => T | Postponed<T> | Promise<T | Postponed<T>>;

export class UploadManager implements UploadApi, ExtensionInstance {
  readonly #owner: ExtensionHost;
  readonly #host: UploadHost;
  readonly #state = new UploadState();
  readonly #slots: ChannelSlots;
  readonly #sessions = new WeakMap<EntryState, ReceiverBinding>();
  readonly #quota = new QuotaHolds();
  readonly #external: ExternalHost;
  readonly #preflight: PreflightHost;
  /** Tokens from an earlier mount of the same view carry another nonce and are refused. */
  readonly nonce = randomBytes(9).toString('base64url');
  #touched = false;

  constructor(owner: ExtensionHost, host: UploadHost) {
    this.#owner = owner;
    this.#host = host;
    this.#slots = new ChannelSlots(host.maxUploadChannels);
    this.#external = {
      viewId: owner.id,
      socket: owner.socket,
      receiver: host.receiver,
      logger: owner.app.logger,
      update: (fn) => owner.update(fn),
      live: (state, entry) => state.entries.includes(entry),
      fail: (state, entry, reason, message) => this.#fail(state, entry, reason, message),
      notify: (state, entry) => this.#notify(state, entry),
      heldQuota: (state, entry) => this.#quota.handOver(state, entry),
    };
    this.#preflight = {
      connectParams: owner.connectParams,
      external: this.#external,
      sessions: this.#sessions,
      quota: this.#quota,
      byRef: (ref) => this.#state.byRef(ref),
      put: (state, list) => this.#put(state, list),
      touch: (state) => this.#touch(state),
      fail: (state, entry, reason, message) => this.#fail(state, entry, reason, message),
      token: (state, entry) => this.#token(state, entry),
    };
  }

  // ---------------------------------------------------------------- public API

  allowUpload(name: string, options: UploadConfigOptions = {}): void {
    this.#allow(name, options, undefined, undefined);
  }

  disallowUpload(name: string): void {
    this.#disallow(name, undefined);
  }

  cancelUpload(name: string, ref: string): Promise<void> {
    return this.#cancel(name, ref, undefined);
  }

  uploadedEntries(name: string): { completed: UploadEntry[]; inProgress: UploadEntry[] } {
    return this.#uploaded(name, undefined);
  }

  consumeUploadedEntries<T>(name: string, fn: ConsumeFn<T>): Promise<T[]> {
    return this.#consumeAll(name, fn, undefined);
  }

  consumeUploadedEntry<T>(name: string, entryOrRef: UploadEntry | string, fn: ConsumeFn<T>): Promise<T> {
    return this.#consumeOne(name, entryOrRef, fn, undefined);
  }

  /**
   * The upload API of component `cid`: its configs have names of their own,
   * their callbacks get `socket` (the component's), and its render sees them.
   */
  forComponent(cid: number, socket: unknown): UploadApi<string, unknown> {
    return {
      allowUpload: (name, options = {}) => this.#allow(name, options as UploadConfigOptions, cid, socket),
      disallowUpload: (name) => this.#disallow(name, cid),
      cancelUpload: (name, ref) => this.#cancel(name, ref, cid),
      uploadedEntries: (name) => this.#uploaded(name, cid),
      consumeUploadedEntries: (name, fn) => this.#consumeAll(name, fn, cid),
      consumeUploadedEntry: (name, entry, fn) => this.#consumeOne(name, entry, fn, cid),
    };
  }

  #allow(name: string, options: UploadConfigOptions, owner: number | undefined, socket: unknown): void {
    this.#touch(this.#state.allow(name, options, owner, socket));
  }

  #disallow(name: string, owner: number | undefined): void {
    const state = this.#state.byName(name, owner);
    this.#state.disallow(name, owner);
    this.#touch(state);
  }

  async #cancel(name: string, ref: string, owner: number | undefined): Promise<void> {
    const state = this.#state.byName(name, owner);
    const entry = state.entries.find((e) => e.ref === ref);
    if (entry) await this.#drop(state, entry, 'cancel');
  }

  #uploaded(name: string, owner: number | undefined): { completed: UploadEntry[]; inProgress: UploadEntry[] } {
    const state = this.#state.byName(name, owner);
    const completed: UploadEntry[] = [];
    const inProgress: UploadEntry[] = [];
    for (const e of state.entries) (e.done ? completed : inProgress).push(snapshot(e));
    return { completed, inProgress };
  }

  async #consumeAll<T>(name: string, fn: ConsumeFn<T>, owner: number | undefined): Promise<T[]> {
    const state = this.#state.byName(name, owner);
    const results: T[] = [];
    for (const entry of state.entries.filter((e) => e.done)) results.push(await this.#consume(state, entry, fn));
    return results;
  }

  async #consumeOne<T>(name: string, entryOrRef: UploadEntry | string, fn: ConsumeFn<T>, owner: number | undefined): Promise<T> {
    const state = this.#state.byName(name, owner);
    const ref = typeof entryOrRef === 'string' ? entryOrRef : entryOrRef.ref;
    const entry = state.entries.find((e) => e.ref === ref);
    if (!entry) throw new InletError('INLET_ERR_UPLOAD_UNKNOWN_ENTRY', `"${ref}" in "${name}"`);
    if (!entry.done) throw new InletError('INLET_ERR_UPLOAD_NOT_DONE', `"${ref}" in "${name}"`);
    return this.#consume(state, entry, fn);
  }

  /** The socket a config's callbacks get: its component's, or the view's. */
  #socketOf(state: ConfigState): LiveViewSocket<object> {
    return (state.socket ?? this.#owner.socket) as LiveViewSocket<object>;
  }

  /** Something about `state` changed: its owner renders again (the view, or the component that allowed it). */
  #touch(state: ConfigState): void {
    if (state.owner === undefined) this.#touched = true;
    else this.#owner.touchComponent?.(state.owner);
  }

  async #consume<T>(state: ConfigState, entry: EntryState, fn: ConsumeFn<T>): Promise<T> {
    const stored = entry.meta ?? {};
    const socket = this.#slots.stored(entry) !== undefined;
    // Socket uploads say whether the browser's own SHA-256 confirmed the bytes.
    const integrity = socket ? { sha256Verified: entry.sha256Verified === true } : {};
    const files = consumeFileSystem(socket && typeof stored.path === 'string' ? stored.path : undefined);
    const meta = { ...stored, ...integrity, fileSystem: files.helpers } as ConsumeMeta;
    const result = await fn(meta, snapshot(entry));
    await files.settle(isPostponed(result));
    if (isPostponed(result)) return result.value;
    const ours = socket || this.#sessions.has(entry);
    await this.#drop(state, entry, 'consumed');
    // Whatever the consumer did not move away is ours to remove.
    // A temp file the consumer did not move away is ours to remove.
    if (ours && typeof stored.path === 'string') await unlink(stored.path).catch(() => undefined);
    return result;
  }

  // ------------------------------------------------------- the view extension

  renderMeta(): Record<string, unknown> {
    return { uploads: this.#state.views() };
  }

  componentMeta(cid: number): Record<string, unknown> {
    return { uploads: this.#state.views(cid) };
  }

  /** A component that owned uploads left the page: its entries are cancelled and its configs forgotten. */
  async componentDestroyed(cid: number): Promise<void> {
    for (const state of this.#state.dropOwner(cid)) {
      for (const entry of [...state.entries]) await this.#drop(state, entry, 'cancel');
    }
  }

  touched(): boolean {
    const t = this.#touched;
    this.#touched = false;
    return t;
  }

  beforeEvent(payload: Readonly<Record<string, unknown>>): void {
    if (payload.type !== 'form' || !isPlainObject(payload.uploads)) return;
    const cid = typeof payload.cid === 'number' ? payload.cid : undefined;
    for (const [confRef, list] of Object.entries(payload.uploads)) {
      const state = this.#state.byRef(confRef);
      if (!state || !Array.isArray(list)) continue;
      if (cid !== undefined) state.cid = cid;
      this.#put(state, list);
    }
  }

  readonly events = {
    allow_upload: (payload: Record<string, unknown>) => this.preflight(payload),
    progress: async (payload: Record<string, unknown>) => {
      await this.progress(payload);
      return {};
    },
  };

  #put(state: ConfigState, list: readonly unknown[]): void {
    if (putEntries(state, list, (old) => void this.#drop(state, old, 'cancel'))) this.#touch(state);
  }

  /** Handles `allow_upload`: registers, picks the entries that may upload, and answers tokens or presigned metadata. */
  preflight(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = typeof payload.ref === 'string' ? payload.ref : '';
    return TRACING.preflight.tracePromise(() => preflightReply(this.#preflight, payload), { view: this.#owner.id, ref });
  }

  /** The signed token an entry's upload channel joins with (preflight replies carry it). */
  #token(state: ConfigState, entry: EntryState): string {
    const data: UploadTokenData = { v: this.#owner.id, n: this.nonce, c: state.ref, e: entry.ref };
    return this.#owner.app.signer.sign('upload', data, this.#host.tokenTtlMs ?? UPLOAD_TOKEN_TTL_MS);
  }

  /** Handles a `progress` push. */
  async progress(payload: Record<string, unknown>): Promise<void> {
    const state = this.#state.byRef(payload.ref);
    const entry = state?.entries.find((e) => e.ref === payload.entry_ref);
    if (!state || !entry) return;
    const value = payload.progress;
    if (isPlainObject(value)) {
      let message = typeof value.error === 'string' ? value.error.slice(0, MAX_CLIENT_ERROR_LENGTH) : 'failed';
      if (state.raw.external && entry.valid && (await this.#receiverSessionLost(entry))) {
        message = `${message} The server lost this upload's session (its session store restarted or it expired), so it cannot be continued; please upload the file again.`;
      }
      if (state.raw.external) this.#fail(state, entry, ENTRY_ERRORS.EXTERNAL_CLIENT_FAILURE, message);
      else if (entry.valid && !entry.done) entry.errorMessage ??= message;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      // The receiver, not the client, reports progress for chunked uploads; but when the client says
      // it is done and the completion event never came (it crossed nodes while pub/sub was down), ask.
      const binding = this.#sessions.get(entry);
      if (binding) {
        if (value >= 100 && !binding.complete) await this.#receiverCompletion(state, entry, binding);
        return;
      }
      const pct = Math.max(0, Math.min(100, Math.floor(value)));
      if (!entry.valid || entry.done || pct <= entry.progress) return;
      if (pct === 100 && !state.raw.external && !entry.bytesComplete) {
        // The client says done before the bytes are all here: not done yet.
        entry.progress = 99;
      } else {
        entry.progress = pct;
        if (pct === 100) entry.done = true;
      }
    } else return;
    await this.#notify(state, entry);
  }

  /** Whether the receiver no longer knows the session bound to `entry` (and did not end it through us). */
  async #receiverSessionLost(entry: EntryState): Promise<boolean> {
    const binding = this.#sessions.get(entry);
    const registry = this.#host.receiver?.registry;
    if (!binding || !registry) return false;
    return (await registry.get(binding.token).catch(() => undefined)) === undefined;
  }

  /** Completes an entry from the receiver's record, when its completion event was lost. */
  async #receiverCompletion(state: ConfigState, entry: EntryState, binding: ReceiverBinding): Promise<void> {
    const meta = await this.#host.receiver?.registry.completedMeta(binding.token).catch(() => undefined);
    if (!meta || binding.complete || !state.entries.includes(entry)) return;
    binding.complete = true;
    entry.meta = { ...entry.meta, ...meta };
    entry.bytesComplete = true;
    entry.progress = 100;
    entry.done = true;
    await this.#notify(state, entry);
  }

  /** Marks the state changed and calls the config's `progress` callback for `entry`. */
  async #notify(state: ConfigState, entry: EntryState): Promise<void> {
    this.#touch(state);
    await state.raw.progress?.(state.name, snapshot(entry), this.#socketOf(state));
  }

  #fail(state: ConfigState, entry: EntryState, reason: UploadErrorReason, message?: string): void {
    failEntry(state, entry, reason, message);
    this.#touch(state);
    if (uploadErrorChannel.hasSubscribers) uploadErrorChannel.publish({ view: this.#owner.id, upload: state.name, ref: entry.ref, reason });
  }

  // ------------------------------------------------------------ upload channels

  /**
   * Resolves a verified token to its entry for a joining upload channel, and
   * reserves the entry's channel slot; or the reason to refuse the join.
   */
  entryForChannel(
    token: UploadTokenData,
    topicRef: string,
  ): { entry: EntryState; limits: ChunkLimits; name: string; rules: SniffRules } | { reason: string } {
    const state = this.#state.byRef(token.c);
    const found = this.#slots.reserve(token, topicRef, this.nonce, state);
    if ('reason' in found || !state) return 'reason' in found ? found : { reason: UPLOAD_REASONS.DISALLOWED };
    return { ...found, name: found.entry.uploadConfig, rules: { accept: state.options.accept, sniff: state.raw.sniff } };
  }

  /**
   * {@link entryForChannel}, waiting for a free slot while the view holds
   * `maxUploadChannels` channels (joins are let in oldest first).
   */
  async entryForChannelWhenFree(token: UploadTokenData, topicRef: string): Promise<ReturnType<UploadManager['entryForChannel']>> {
    for (;;) {
      const found = this.entryForChannel(token, topicRef);
      if (!('reason' in found) || found.reason !== UPLOAD_REASONS.TOO_MANY_CHANNELS || !this.#host.waitForChannels) return found;
      await this.#slots.waitForSlot();
    }
  }

  /**
   * Where an entry's bytes go: the config's `writer` (adapted), its `store`,
   * or the server's default store; the record names the upload in it.
   */
  async storeFor(name: string, entry: EntryState): Promise<StoredEntry> {
    const state = this.#state.byRef(entry.uploadRef) ?? this.#state.byName(name);
    const raw = state.raw;
    const store = raw.writer
      ? writerStore(raw.writer(name, snapshot(entry), this.#socketOf(state)))
      : (raw.store ?? (await this.#host.defaultStore()));
    const record = { id: entry.uuid, size: entry.clientSize, ...(entry.clientType ? { contentType: entry.clientType } : {}) };
    return { store, record };
  }

  /**
   * The resume registry and the store a resumable upload of config `name`
   * goes to (its own `store`, or the registry's default store, kept across
   * restarts); undefined when the config does not resume (a `writer`,
   * `resume: false`) or the server keeps no sessions.
   */
  async resumableStore(name: string, entry: EntryState): Promise<{ registry: ResumeRegistry; store: UploadStore } | undefined> {
    // By the entry's config ref first: a component's config is not found by its name alone.
    const raw = (this.#state.byRef(entry.uploadRef) ?? this.#state.byName(name)).raw;
    const registry = this.#host.resume;
    if (!registry || raw.writer || raw.resume === false) return undefined;
    return { registry, store: raw.store ?? (await registry.defaultStore()) };
  }

  /** The resumable session an entry's last channel left parked, if any (a same-view rejoin claims it). */
  parkedSession(entry: EntryState): string | undefined {
    return this.#slots.parked(entry);
  }

  /** An entry's channel went away and parked its upload as session `id`. */
  channelParked(entry: EntryState, id: string): void {
    this.#slots.park(entry, id);
  }

  /** The id of the view whose uploads this manages. */
  get viewId(): string {
    return this.#owner.id;
  }

  /** Binds a joined channel to the entry whose slot {@link entryForChannel} reserved. */
  attachChannel(entry: EntryState, channel: ChannelHandle, stored: StoredEntry): void {
    this.#slots.attach(entry, channel, stored);
  }

  /** Gives back a slot reserved for a join that failed. */
  releaseReservation(entry: EntryState): void {
    this.#slots.unreserve(entry);
  }

  detachChannel(entry: EntryState): void {
    this.#slots.detach(entry);
  }

  /** Records a failure seen by an upload channel and re-renders. */
  channelFailed(entry: EntryState, reason: UploadErrorReason, message?: string): void {
    const state = this.#state.byRef(entry.uploadRef);
    if (!state || !state.entries.includes(entry)) return;
    void this.#owner.update(async () => {
      this.#fail(state, entry, reason, message);
      await this.#notify(state, entry);
    });
  }

  // ------------------------------------------------------------ teardown

  /**
   * Removes an entry: consumed, cancelled, or left behind by the view's end
   * (`release`: an unfinished resumable upload is parked, not deleted).
   */
  async #drop(state: ConfigState, entry: EntryState, reason: 'cancel' | 'consumed' | 'release'): Promise<void> {
    const why = reason === 'consumed' ? 'consumed' : 'cancel';
    if (!removeEntry(state, entry, why)) return;
    this.#touch(state);
    // A consumed file keeps counting against its quota; anything else gives its reservation back.
    if (why === 'cancel') {
      await this.#quota
        .refund(state, entry)
        .catch((e: unknown) => this.#owner.app.logger.error({ err: e, view: this.#owner.id, upload: state.name, ref: entry.ref }, 'refunding an upload quota failed'));
    } else this.#quota.forget(entry);
    const binding = this.#sessions.get(entry);
    if (binding) {
      binding.unbind();
      // The receiver holds the session's quota reservation: a consumed file keeps counting, a cancelled one is refunded.
      const registry = this.#host.receiver?.registry;
      await (why === 'consumed' ? registry?.consumed(binding.token) : registry?.cancel(binding.token))?.catch((e: unknown) =>
        this.#owner.app.logger.error({ err: e, view: this.#owner.id, upload: state.name, ref: entry.ref }, 'ending a receiver session failed'),
      );
      if (why === 'cancel' && binding.complete && typeof entry.meta?.path === 'string') await unlink(entry.meta.path).catch(() => undefined);
    }
    const channel = this.#slots.channel(entry);
    const stored = this.#slots.stored(entry);
    if (channel) await channel.close(reason === 'release' ? 'park' : 'discard');
    else if (stored && why === 'cancel' && !entry.bytesComplete && !(reason === 'release' && this.#slots.parked(entry))) {
      // Not parked, or parked and now cancelled: the session and its bytes go.
      stored.resume?.end();
      await stored.store.abort(stored.record).catch((e: unknown) => this.#owner.app.logger.error({ err: e, view: this.#owner.id, upload: state.name, ref: entry.ref }, 'aborting a cancelled upload failed'));
    }
    if (why === 'cancel' && entry.bytesComplete && stored && typeof entry.meta?.path === 'string') await unlink(entry.meta.path).catch(() => undefined);
  }

  /** The view ended: close channels, park resumable uploads, and remove every other temp file not consumed. */
  async release(): Promise<void> {
    for (const state of this.#state.configs()) {
      for (const entry of [...state.entries]) await this.#drop(state, entry, 'release');
    }
  }
}

function isPostponed<T>(v: T | Postponed<T>): v is Postponed<T> {
  return typeof v === 'object' && v !== null && (v as Postponed<T>).postpone === true && 'value' in (v as object);
}
