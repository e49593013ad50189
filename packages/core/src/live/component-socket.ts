/**
 * The socket a stateful component's callbacks receive: its own assigns
 * (with change tracking by a dirty flag), streams, uploads it owns, and what
 * it may ask of its view (events, navigation, flash, updates of components).
 */
import { InletError } from '../errors.js';
import type { Colocated } from '../render/colocated.js';
import { StreamSet, type StreamConfig, type StreamInsertOptions, type StreamOptions } from '../render/stream.js';
import type { ChildViewMarker, Dyn } from '../render/tree.js';
import type { UploadApi, UploadConfigOptions } from '../uploads/socket-api.js';
import { UPLOADS_EXTENSION, type PushEventOptions } from './socket.js';
import { AsyncTasks, type AssignAsyncOptions, type AsyncFn, type AsyncResult } from './async.js';
import type { ComponentSocket, LiveComponent, UpdateTarget } from './view.js';

/** What a component may ask of its view's socket (navigation and flash belong to the view). */
export interface ComponentViewApi {
  pushPatch(to: string, options?: { replace?: boolean }): void;
  pushNavigate(to: string, options?: { replace?: boolean }): void;
  redirect(to: string): void;
  putFlash(key: string, message: string): void;
  clearFlash(key?: string): void;
}

/** An extension that can scope its API to one component (uploads do). */
export interface ComponentScoped {
  forComponent(cid: number, socket: unknown): unknown;
}

/** What components need from their view. */
export interface ComponentParent {
  pushEvent(event: string, payload: Record<string, unknown>, options?: PushEventOptions): void;
  sendInfo(info: unknown): void;
  /** Replies to the hook push that reached a component's handleEvent. */
  reply?(payload: Record<string, unknown>): void;
  /** A colocated hook or script was rendered or declared by a component. */
  hook?(item: Colocated): void;
  /** Whether the view is connected (false in the HTTP render). */
  readonly connected?: boolean;
  /** The view's socket, for navigation and flash asked for by components. */
  readonly view?: ComponentViewApi;
  /** Queues a `sendUpdate` (after the current callback, or `delayMs` later). */
  sendUpdate?(target: UpdateTarget, assigns: Record<string, unknown>, delayMs?: number): void;
  /** The view's state of the extension registered as `name`. */
  extension?(name: string): unknown;
  /** What extensions add to a component's render meta (its upload configs). */
  componentMeta?(cid: number): Record<string, unknown>;
  /** Renders a child live view placed by the view or one of its components. */
  child?(marker: ChildViewMarker): Dyn;
  /** Runs `fn` in the view's queue, then renders and pushes what changed (async results). */
  update?(fn: () => void | Promise<void>): Promise<void>;
}

export class ComponentSocketImpl implements ComponentSocket<Record<string, unknown>> {
  readonly assigns: Record<string, unknown> & { streams: Record<string, never> };
  readonly streams: StreamSet;
  dirty = true;
  #uploadApi?: UploadApi<string, ComponentSocket>;
  #async?: AsyncTasks;

  constructor(
    readonly id: string,
    readonly cid: number,
    private readonly parent: ComponentParent,
    private readonly definition?: LiveComponent<object, object>,
  ) {
    this.streams = new StreamSet(`${cid}-`);
    this.assigns = { streams: this.streams.view() as Record<string, never> };
  }

  // ---- async work (see async.ts); results come back through the view's queue

  #tasks(): AsyncTasks {
    return (this.#async ??= new AsyncTasks({
      connected: this.connected,
      get: (key) => this.assigns[key],
      assign: (values) => this.assign(values),
      stream: (name, items, options) => this.stream(name, items, options),
      update: (fn) => (this.parent.update ? this.parent.update(fn) : Promise.resolve(fn()).then(() => undefined)),
      handleAsync: (name, outcome) => {
        const definition = this.definition;
        if (!definition?.handleAsync) throw new InletError('INLET_ERR_VIEW_ASYNC', `startAsync("${name}") finished, but component "${this.id}" has no handleAsync.`);
        return definition.handleAsync(name, outcome, this);
      },
    }));
  }

  assignAsync(keys: string | readonly string[], fn: AsyncFn<Record<string, unknown>>, options?: AssignAsyncOptions): void {
    this.#tasks().assign(keys, fn, options);
  }

  startAsync(name: string, fn: AsyncFn<unknown>): void {
    this.#tasks().start(name, fn);
  }

  cancelAsync(target: string | AsyncResult, reason?: unknown): void {
    this.#async?.cancel(target, reason);
  }

  /** The component is gone: abort its async work. */
  endAsync(): void {
    this.#async?.end();
  }

  assign(values: Partial<Record<string, unknown>>): void {
    for (const key of Object.keys(values)) {
      if (key === 'streams') throw new InletError('INLET_ERR_STREAM_ASSIGN', 'Change streams with stream(), streamInsert() and streamDelete().');
      const value = values[key];
      if (this.assigns[key] === value && (typeof value !== 'object' || value === null)) continue;
      this.assigns[key] = value;
      this.dirty = true;
    }
  }

  stream(name: string, items: Iterable<unknown>, options?: StreamOptions): void {
    this.streams.stream(name, items, options);
    this.dirty = true;
  }

  streamConfigure(name: string, config: StreamConfig): void {
    this.streams.configure(name, config);
  }

  streamInsert(name: string, item: unknown, options?: StreamInsertOptions): void {
    this.streams.get(name).insert(item, options);
    this.dirty = true;
  }

  streamDelete(name: string, item: unknown): void {
    const stream = this.streams.get(name);
    stream.deleteByDomId(stream.domId(item));
    this.dirty = true;
  }

  streamDeleteByDomId(name: string, domId: string): void {
    this.streams.get(name).deleteByDomId(domId);
    this.dirty = true;
  }

  get connected(): boolean {
    return this.parent.connected ?? false;
  }

  pushEvent(event: string, payload: Record<string, unknown> = {}, options: PushEventOptions = {}): void {
    this.parent.pushEvent(event, payload, options);
  }

  reply(payload: Record<string, unknown>): void {
    this.parent.reply?.(payload);
  }

  sendParent(info: unknown): void {
    this.parent.sendInfo(info);
  }

  pushPatch(to: string, options?: { replace?: boolean }): void {
    this.parent.view?.pushPatch(to, options);
  }

  pushNavigate(to: string, options?: { replace?: boolean }): void {
    this.parent.view?.pushNavigate(to, options);
  }

  redirect(to: string): void {
    this.parent.view?.redirect(to);
  }

  putFlash(key: string, message: string): void {
    this.parent.view?.putFlash(key, message);
  }

  clearFlash(key?: string): void {
    this.parent.view?.clearFlash(key);
  }

  sendUpdate = (target: UpdateTarget, assigns: Record<string, unknown>): void => {
    this.parent.sendUpdate?.(target, assigns);
  };

  sendUpdateAfter = (target: UpdateTarget, assigns: Record<string, unknown>, delayMs: number): void => {
    this.parent.sendUpdate?.(target, assigns, delayMs);
  };

  // ---- uploads owned by this component (the uploads extension, scoped to the cid)

  #uploads(): UploadApi<string, ComponentSocket> {
    if (this.#uploadApi) return this.#uploadApi;
    const ext = this.parent.extension?.(UPLOADS_EXTENSION) as Partial<ComponentScoped> | undefined;
    if (!ext?.forComponent) throw new InletError('INLET_ERR_UPLOAD_OPTION', 'this app serves no uploads (the uploads extension is not registered).');
    this.#uploadApi = ext.forComponent(this.cid, this) as UploadApi<string, ComponentSocket>;
    return this.#uploadApi;
  }

  allowUpload = (name: string, options?: UploadConfigOptions<ComponentSocket<Record<string, unknown>>>): void => {
    this.#uploads().allowUpload(name, options);
    this.dirty = true;
  };
  disallowUpload: UploadApi['disallowUpload'] = (name) => {
    this.#uploads().disallowUpload(name);
    this.dirty = true;
  };
  cancelUpload: UploadApi['cancelUpload'] = (name, ref) => this.#uploads().cancelUpload(name, ref);
  consumeUploadedEntries: UploadApi['consumeUploadedEntries'] = (name, fn) => this.#uploads().consumeUploadedEntries(name, fn);
  consumeUploadedEntry: UploadApi['consumeUploadedEntry'] = (name, entry, fn) => this.#uploads().consumeUploadedEntry(name, entry, fn);
  uploadedEntries: UploadApi['uploadedEntries'] = (name) => this.#uploads().uploadedEntries(name);
}
