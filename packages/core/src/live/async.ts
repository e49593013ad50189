/**
 * Async work of a view or component (Phoenix's `assign_async`, `start_async`
 * with `handle_async`, `stream_async`, `cancel_async`): functions run beside
 * the view, each with an `AbortSignal`; their results come back through the
 * view's queue and render like any other change. Nothing runs in the HTTP
 * render (the assigns just say "loading"), and everything still running is
 * aborted when the view ends.
 */
import { InletError } from '../errors.js';
import type { StreamOptions } from '../render/stream.js';
import type { Template } from '../render/template.js';

/**
 * The state of an async assign: loading (with an optional loading state),
 * ok (with its result; stays `ok` once loaded, even while reloading), or
 * failed (with the reason). Immutable.
 *
 * @example
 * AsyncResult.loading()                  // { ok: false, loading: true, failed: undefined, result: undefined }
 * AsyncResult.ok(AsyncResult.loading(), 42).result // 42
 */
export class AsyncResult<T = unknown> {
  /** True once a result arrived (and kept while it reloads or fails later). */
  readonly ok: boolean;
  /** Truthy while loading: `true`, or the keys loading together, or any loading state. */
  readonly loading: unknown;
  /** Why the last attempt failed (the thrown value, or the cancel reason); undefined otherwise. */
  readonly failed: unknown;
  /** The last result. */
  readonly result: T | undefined;

  private constructor(ok: boolean, loading: unknown, failed: unknown, result: T | undefined) {
    this.ok = ok;
    this.loading = loading;
    this.failed = failed;
    this.result = result;
    Object.freeze(this);
  }

  /** A result that is loading: fresh, or `previous` (keeping its result) with a new loading state. */
  static loading<T>(previous?: AsyncResult<T>, state: unknown = true): AsyncResult<T> {
    return previous ? new AsyncResult(previous.ok, state, undefined, previous.result) : new AsyncResult<T>(false, state, undefined, undefined);
  }

  /** A loaded result. */
  static ok<T>(previous: AsyncResult<T> | undefined, value: T): AsyncResult<T> {
    void previous;
    return new AsyncResult(true, undefined, undefined, value);
  }

  /** A failed attempt; `previous`'s result stays. */
  static failed<T>(previous: AsyncResult<T> | undefined, reason: unknown): AsyncResult<T> {
    return new AsyncResult(previous?.ok ?? false, undefined, reason, previous?.result);
  }
}

/**
 * The value an async assign holds once loaded: `AsyncResult<T>` gives `T`.
 *
 * @example
 * type Org = AsyncValue<AsyncResult<{ name: string }>> // { name: string }
 */
export type AsyncValue<V> = V extends AsyncResult<infer T> ? T : V;

/**
 * What `handleAsync` receives for a `startAsync` task.
 *
 * @example
 * handleAsync: (name, outcome, socket) => socket.assign({ report: outcome.ok ? outcome.result : undefined })
 */
export type AsyncOutcome<T = unknown> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly reason: unknown };

/**
 * The work of an async task: gets a signal that aborts when the task is cancelled, replaced or the view ends.
 *
 * @example
 * const load: AsyncFn<{ org: Org }> = async (signal) => ({ org: await (await fetch(url, { signal })).json() })
 */
export type AsyncFn<T> = (signal: AbortSignal) => T | Promise<T>;

/**
 * Options of `assignAsync`.
 *
 * @example
 * socket.assignAsync('org', load, { reset: true })
 */
export interface AssignAsyncOptions<K extends string = string> {
  /** Start from a fresh loading result instead of keeping the previous result while loading (all keys, or some). */
  readonly reset?: boolean | readonly K[];
}

/** What async work needs from the socket it belongs to. */
export interface AsyncHost {
  /** Nothing runs in the HTTP render. */
  readonly connected: boolean;
  /** The current value of an assign. */
  get(key: string): unknown;
  /** Sets assigns (recording the change). */
  assign(values: Record<string, unknown>): void;
  /** Inserts items into a stream (`streamAsync`), creating it if needed. */
  stream(name: string, items: Iterable<unknown>, options: StreamOptions): void;
  /** Runs `fn` in the view's queue, then renders and pushes what changed. */
  update(fn: () => void | Promise<void>): Promise<void>;
  /** Calls the view's or component's `handleAsync`. */
  handleAsync(name: string, outcome: AsyncOutcome): void | Promise<void>;
}

interface Task {
  readonly kind: 'assign' | 'start' | 'stream';
  readonly keys: readonly string[];
  readonly controller: AbortController;
}

const CANCELLED = 'cancelled';

/** The async tasks of one socket, by key (the assign keys joined, or the task name). */
export class AsyncTasks {
  readonly #host: AsyncHost;
  readonly #tasks = new Map<string, Task>();
  #ended = false;

  constructor(host: AsyncHost) {
    this.#host = host;
  }

  /** Keys of tasks still running. */
  get running(): string[] {
    return [...this.#tasks.keys()];
  }

  assign(keys: string | readonly string[], fn: AsyncFn<Record<string, unknown>>, options: AssignAsyncOptions = {}): void {
    const list = typeof keys === 'string' ? [keys] : [...keys];
    if (list.length === 0 || list.some((k) => typeof k !== 'string' || k.length === 0)) {
      throw new InletError('INLET_ERR_VIEW_ASYNC', 'assignAsync needs one key or a list of keys.');
    }
    if (typeof fn !== 'function') throw new InletError('INLET_ERR_VIEW_ASYNC', 'assignAsync needs a function.');
    const values: Record<string, unknown> = {};
    for (const key of list) {
      const reset = options.reset === true || (Array.isArray(options.reset) && options.reset.includes(key));
      const current = this.#host.get(key);
      values[key] = !reset && current instanceof AsyncResult && current.ok ? AsyncResult.loading(current, list) : AsyncResult.loading(undefined, list);
    }
    this.#host.assign(values);
    this.#run(list.join('\0'), 'assign', list, fn);
  }

  start(name: string, fn: AsyncFn<unknown>): void {
    if (typeof name !== 'string' || name.length === 0) throw new InletError('INLET_ERR_VIEW_ASYNC', 'startAsync needs a name.');
    if (typeof fn !== 'function') throw new InletError('INLET_ERR_VIEW_ASYNC', 'startAsync needs a function.');
    this.#run(name, 'start', [name], fn);
  }

  stream(name: string, fn: AsyncFn<Iterable<unknown>>, options: StreamOptions = {}): void {
    if (typeof name !== 'string' || name.length === 0) throw new InletError('INLET_ERR_VIEW_ASYNC', 'streamAsync needs a name.');
    if (typeof fn !== 'function') throw new InletError('INLET_ERR_VIEW_ASYNC', 'streamAsync needs a function.');
    const current = this.#host.get(name);
    this.#host.assign({ [name]: options.reset !== true && current instanceof AsyncResult && current.ok ? AsyncResult.loading(current) : AsyncResult.loading() });
    this.#run(name, 'stream', [name], fn, options);
  }

  /**
   * Cancels a task: by name (`startAsync`/`streamAsync`) or by the loading
   * result of an `assignAsync`. Assigns fail at once with `reason`;
   * `handleAsync` gets `{ ok: false, reason }` next.
   */
  cancel(target: string | AsyncResult, reason: unknown = CANCELLED): void {
    let id: string | undefined;
    if (target instanceof AsyncResult) {
      const keys = target.loading;
      if (!Array.isArray(keys)) return;
      id = keys.join('\0');
    } else id = target;
    const task = this.#tasks.get(id);
    if (!task) return;
    this.#tasks.delete(id);
    task.controller.abort(reason);
    if (task.kind === 'start') {
      void this.#host.update(() => this.#host.handleAsync(id, { ok: false, reason }));
      return;
    }
    const values: Record<string, unknown> = {};
    for (const key of task.keys) values[key] = AsyncResult.failed(asResult(this.#host.get(key)), reason);
    this.#host.assign(values);
  }

  /** The socket ended: abort everything, deliver nothing. */
  end(reason: unknown = 'view ended'): void {
    this.#ended = true;
    for (const task of this.#tasks.values()) task.controller.abort(reason);
    this.#tasks.clear();
  }

  #run(id: string, kind: Task['kind'], keys: readonly string[], fn: AsyncFn<unknown>, streamOptions: StreamOptions = {}): void {
    if (!this.#host.connected || this.#ended) return;
    // The newest task of a key wins; an older one is aborted and its result ignored.
    this.#tasks.get(id)?.controller.abort('replaced');
    const task: Task = { kind, keys, controller: new AbortController() };
    this.#tasks.set(id, task);
    const settle = (outcome: AsyncOutcome) => {
      if (this.#tasks.get(id) !== task) return;
      void this.#host.update(() => {
        if (this.#tasks.get(id) !== task) return;
        this.#tasks.delete(id);
        return this.#apply(task, id, outcome, streamOptions);
      });
    };
    const pending = (async () => fn(task.controller.signal))();
    pending.then(
      (result) => settle({ ok: true, result }),
      (reason: unknown) => settle({ ok: false, reason }),
    );
  }

  #apply(task: Task, id: string, outcome: AsyncOutcome, streamOptions: StreamOptions): void | Promise<void> {
    const host = this.#host;
    switch (task.kind) {
      case 'start':
        return host.handleAsync(id, outcome);
      case 'stream': {
        const key = task.keys[0] as string;
        const current = asResult(host.get(key));
        if (!outcome.ok) return host.assign({ [key]: AsyncResult.failed(current, outcome.reason) });
        const items = outcome.result;
        if (items === null || typeof items !== 'object' || typeof (items as Iterable<unknown>)[Symbol.iterator] !== 'function') {
          return host.assign({ [key]: AsyncResult.failed(current, new InletError('INLET_ERR_VIEW_ASYNC', `streamAsync("${key}") must return an iterable of items.`)) });
        }
        host.stream(key, items as Iterable<unknown>, streamOptions);
        return host.assign({ [key]: AsyncResult.ok(current, true) });
      }
      case 'assign': {
        const values: Record<string, unknown> = {};
        const result = outcome.ok ? outcome.result : undefined;
        const missing = outcome.ok && (typeof result !== 'object' || result === null || task.keys.some((k) => !Object.hasOwn(result, k)));
        for (const key of task.keys) {
          const current = asResult(host.get(key));
          if (!outcome.ok) values[key] = AsyncResult.failed(current, outcome.reason);
          else if (missing) {
            values[key] = AsyncResult.failed(current, new InletError('INLET_ERR_VIEW_ASYNC', `assignAsync must resolve to an object with the keys ${task.keys.join(', ')}.`));
          } else values[key] = AsyncResult.ok(current, (result as Record<string, unknown>)[key]);
        }
        return host.assign(values);
      }
    }
  }
}

function asResult(value: unknown): AsyncResult | undefined {
  return value instanceof AsyncResult ? value : undefined;
}

/**
 * The slots of {@link asyncResult}.
 *
 * @example
 * asyncResult(org, { loading: () => 'Loading…', failed: () => 'Could not load', ok: (o) => o.name })
 */
export interface AsyncResultSlots<T> {
  /** Rendered once a result arrived (also while it reloads). */
  readonly ok: (result: T) => Template | string;
  /** Rendered while loading before any result, with the loading state. */
  readonly loading?: (state: unknown) => Template | string;
  /** Rendered when the attempt failed before any result, with the reason. */
  readonly failed?: (reason: unknown) => Template | string;
}

/**
 * Renders an async assign by its state (Phoenix's `<.async_result>`): the
 * result once loaded, else the loading slot, else the failed slot.
 *
 * @example
 * render: ({ org }) => html`${asyncResult(org, {
 *   loading: () => html`<p>Loading…</p>`,
 *   failed: () => html`<p>Could not load the organisation.</p>`,
 *   ok: (o) => html`<h1>${o.name}</h1>`,
 * })}`
 */
export function asyncResult<T>(result: AsyncResult<T> | undefined, slots: AsyncResultSlots<T>): Template | string {
  if (!result) return '';
  if (result.ok) return slots.ok(result.result as T);
  if (result.loading) return slots.loading?.(result.loading) ?? '';
  if (result.failed !== undefined) return slots.failed?.(result.failed) ?? '';
  return '';
}
