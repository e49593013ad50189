/**
 * View and component definitions: plain objects of callbacks.
 */
import { InletError } from '../errors.js';
import type { ComponentMarker } from '../render/tree.js';
import type { Template } from '../render/template.js';
import type { UploadApi, UploadConfigView } from '../uploads/socket-api.js';
import type { Params } from './params.js';
import type { Container } from './router.js';
import type { AssignAsyncOptions, AsyncFn, AsyncOutcome, AsyncResult } from './async.js';
import type { Colocated } from '../render/colocated.js';
import type { StreamConfig, StreamInsertOptions, StreamOptions } from '../render/stream.js';
import type { LiveViewSocket, PushEventOptions, SocketAssigns, StreamItem, StreamName, StreamsOf } from './socket.js';

/**
 * An event from the browser: `type` is the event name; values and form
 * fields are on the event, and all of them in `params` (Phoenix's params map,
 * which also holds fields named `type` or `params`).
 *
 * @example
 * handleEvent: (event: LiveEvent, socket) => {
 *   if (event.type === 'search') socket.assign({ query: String(event.params.q ?? '') })
 * }
 */
export interface LiveEvent {
  readonly type: string;
  /** Every value and form field of the event, by name. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly [field: string]: unknown;
}

/**
 * A view's events by name, each with the fields it carries (form fields
 * decoded, `phx-value-*` values, hook payloads). Give one to
 * `createLiveView` and `handleEvent` gets a union discriminated by `type`.
 *
 * @example
 * type Events = { save: { user: { name: string; email: string } }; inc: {} }
 */
export type EventMap = Record<string, object>;

/**
 * The event `handleEvent` receives for an {@link EventMap}: one member per
 * name, `{ type: name, params: fields } & fields`. For the default map it is {@link LiveEvent}.
 *
 * @example
 * type E = LiveEventOf<{ inc: { by: string } }> // { readonly type: 'inc'; readonly params: { by: string }; readonly by: string }
 */
export type LiveEventOf<E extends EventMap> = string extends keyof E
  ? LiveEvent
  : { [K in keyof E & string]: Readonly<{ type: K; params: Readonly<E[K]> } & E[K]> }[keyof E & string];

/**
 * Session data signed into the page at the HTTP render and handed to `mount`.
 *
 * @example
 * createServer({ routes, session: (req): Session => ({ userId: userIdFrom(req) }) })
 * // mount: (socket, session) => socket.assign({ userId: session.userId })
 */
export type Session = Readonly<Record<string, unknown>>;

/**
 * The second argument of `render`; `U` names the view's upload configs.
 *
 * @example
 * render: (assigns, meta: RenderMeta<'avatar'>) =>
 *   html`<form phx-submit="save">${live_file_input(meta.uploads.avatar)}${meta.connected ? '' : 'Loading…'}</form>`
 */
export interface RenderMeta<U extends string = string> {
  /** The page's CSRF token. */
  readonly csrfToken: string;
  /**
   * The view's upload configs by name, for `live_file_input` and friends.
   * Typed by the view's `U`, so `uploads.avatar` needs no `!` when the view
   * declares `'avatar'`.
   */
  readonly uploads: Readonly<Record<U, UploadConfigView>>;
  /** False during the HTTP render. */
  readonly connected: boolean;
  /** The current URL. */
  readonly url: URL;
  /** The route's live action ({@link liveRoute}), if it has one. */
  readonly liveAction?: string;
}

/**
 * What `render` gets besides the assigns: the view's uploads, streams and other socket state, read-only.
 * @example
 * render: (assigns, { uploads, streams }) => html`${live_file_input(uploads.avatar)}`
 */
export type RenderContext<A> = Readonly<SocketAssigns<A>>;

/**
 * A live view's callbacks. Only `render` is required.
 *
 * Type parameters: `A` the assigns, `I` the `handleInfo` messages, `E` the
 * events ({@link EventMap}), `U` the upload config names.
 *
 * @example
 * const definition: LiveViewDefinition<{ count: number }> = {
 *   mount: (socket) => socket.assign({ count: 0 }),
 *   render: ({ count }) => html`<b>${count}</b>`,
 * }
 * export const Counter = createLiveView(definition)
 */
export interface LiveViewDefinition<A extends object = Record<string, unknown>, I = unknown, E extends EventMap = EventMap, U extends string = string> {
  /**
   * A name that identifies the view in the tokens of child views
   * ({@link liveRender}). Routed views are known by their route; give the
   * views you only render as children a name when several processes serve
   * one app (a page rendered by one may join on another).
   */
  readonly name?: string;
  /** The root element instead of a bare `<div>`, e.g. `['main', { class: 'page' }]` (a route's own wins). */
  readonly container?: Container;
  /** Sets up assigns. Runs once for the HTTP render and once more when the browser connects. */
  mount?(socket: LiveViewSocket<A, U>, session: Session, params: Params): void | Promise<void>;
  /** Runs after mount and on every live patch, with the current URL. */
  handleParams?(url: URL, socket: LiveViewSocket<A, U>): void | Promise<void>;
  /** Handles browser events (`phx-click`, forms, hooks), typed by `E`. */
  handleEvent?(event: LiveEventOf<E>, socket: LiveViewSocket<A, U>): void | Promise<void>;
  /** Handles messages from `sendInfo`, pubsub broadcasts and server-side work. */
  handleInfo?(info: I, socket: LiveViewSocket<A, U>): void | Promise<void>;
  /** Gets the outcome of each `socket.startAsync(name, fn)` (Phoenix's `handle_async`). */
  handleAsync?(name: string, outcome: AsyncOutcome, socket: LiveViewSocket<A, U>): void | Promise<void>;
  /** Returns the view's HTML as a template. Must be pure. */
  render(context: RenderContext<A>, meta: RenderMeta<U>): Template;
  /** Runs when the view ends (navigation, disconnect). */
  unmount?(socket: LiveViewSocket<A, U>): void | Promise<void>;
  /** Colocated hooks and scripts this view uses ({@link hook}, {@link clientScript}); every page loads them. */
  readonly hooks?: readonly Colocated[];
}

const VIEW_BRAND = Symbol.for('inlet.view');

/**
 * A view made by {@link createLiveView}.
 *
 * @example
 * const routes: Record<string, LiveView<never, never>> = { '/': Home, '/counter': Counter }
 */
export type LiveView<A extends object = Record<string, unknown>, I = unknown, E extends EventMap = EventMap, U extends string = string> = LiveViewDefinition<A, I, E, U> & {
  readonly [VIEW_BRAND]: true;
};

/**
 * Defines a live view.
 *
 * @example
 * export const Counter = createLiveView<{ count: number }>({
 *   mount: (socket) => socket.assign({ count: 0 }),
 *   handleEvent: (event, socket) => {
 *     if (event.type === 'inc') socket.assign({ count: socket.assigns.count + 1 })
 *   },
 *   render: ({ count }) => html`<button phx-click="inc">${count}</button>`,
 * })
 * @example
 * // Typed events and upload names: no casts, no `!`.
 * createLiveView<{ name: string }, never, { save: { user: { name: string } } }, 'avatar'>({
 *   mount: (socket) => { socket.assign({ name: '' }); socket.allowUpload('avatar', { accept: ['image/*'] }) },
 *   handleEvent: (event, socket) => socket.assign({ name: event.user.name }),
 *   render: ({ name }, { uploads }) => html`<form phx-submit="save">${live_file_input(uploads.avatar)}${name}</form>`,
 * })
 */
export function createLiveView<A extends object = Record<string, unknown>, I = unknown, E extends EventMap = EventMap, U extends string = string>(
  definition: LiveViewDefinition<A, I, E, U>,
): LiveView<A, I, E, U> {
  if (typeof definition.render !== 'function') throw new InletError('INLET_ERR_VIEW_INVALID', 'A view needs a render function.');
  return Object.freeze({ ...definition, [VIEW_BRAND]: true as const });
}

/**
 * The socket of a stateful component.
 *
 * @example
 * function reset(socket: ComponentSocket<{ n: number }>) {
 *   socket.assign({ n: 0 })
 *   socket.sendParent({ kind: 'reset', id: socket.id })
 * }
 */
export interface ComponentSocket<A extends object = Record<string, unknown>> {
  readonly id: string;
  readonly cid: number;
  /** False during the HTTP (dead) render, true once the browser has joined. */
  readonly connected: boolean;
  readonly assigns: Readonly<A & { streams: StreamsOf<A> }>;
  assign(values: Partial<A>): void;
  /** As the view socket's {@link LiveViewSocket.stream}; refs are prefixed with the cid. */
  stream<K extends StreamName<A>>(name: K, items: Iterable<StreamItem<A, K>>, options?: StreamOptions<StreamItem<A, K>>): void;
  streamConfigure<K extends StreamName<A>>(name: K, config: StreamConfig<StreamItem<A, K>>): void;
  streamInsert<K extends StreamName<A>>(name: K, item: StreamItem<A, K>, options?: StreamInsertOptions): void;
  streamDelete<K extends StreamName<A>>(name: K, item: StreamItem<A, K>): void;
  streamDeleteByDomId<K extends StreamName<A>>(name: K, domId: string): void;
  /** Sends an event to the browser (see the view socket's `pushEvent`). */
  pushEvent(event: string, payload?: Record<string, unknown>, options?: PushEventOptions): void;
  /** Sends `info` to the parent view's `handleInfo`. */
  sendParent(info: unknown): void;
  /** As the view socket's: changes the URL, and the view's `handleParams` runs. */
  pushPatch(to: string, options?: { replace?: boolean }): void;
  /** As the view socket's: navigates to another live view. */
  pushNavigate(to: string, options?: { replace?: boolean }): void;
  /** As the view socket's: full page navigation. */
  redirect(to: string): void;
  /** Sets a flash message of the view. */
  putFlash(key: string, message: string): void;
  /** Clears one flash key of the view, or all of them. */
  clearFlash(key?: string): void;
  /** Replies to the hook `pushEvent`/`pushEventTo` that triggered this `handleEvent`. */
  reply(payload: Record<string, unknown>): void;
  /** As the view socket's {@link LiveViewSocket.sendUpdate}: updates another component (or this one, by `myself`). */
  sendUpdate: SendUpdate;
  /** {@link sendUpdate} after `delayMs`. */
  sendUpdateAfter: SendUpdateAfter;
  /** Allows uploads under `name`, owned by this component: its form (with `phx-target` this component) reports the files here, and `render` finds the config in `meta.uploads`. */
  allowUpload: UploadApi<string, ComponentSocket<A>>['allowUpload'];
  disallowUpload: UploadApi['disallowUpload'];
  cancelUpload: UploadApi['cancelUpload'];
  consumeUploadedEntries: UploadApi['consumeUploadedEntries'];
  consumeUploadedEntry: UploadApi['consumeUploadedEntry'];
  uploadedEntries: UploadApi['uploadedEntries'];
  /** As the view socket's `assignAsync`: the component re-renders when the result arrives. */
  assignAsync<K extends keyof A & string>(keys: K | readonly K[], fn: AsyncFn<{ [P in K]: unknown }>, options?: AssignAsyncOptions<K>): void;
  /** As the view socket's `startAsync`; the component's `handleAsync` gets the outcome. */
  startAsync(name: string, fn: AsyncFn<unknown>): void;
  /** As the view socket's `cancelAsync`. */
  cancelAsync(target: string | AsyncResult, reason?: unknown): void;
}

/** A component to update: its definition (with `id` in the assigns) or its cid (`myself`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any component definition, whatever its assigns
export type UpdateTarget = number | LiveComponent<any, any>;

/**
 * Calls a component's `updateMany` or `update` with `assigns` (without
 * `update`, merges them into its assigns), then renders it; Phoenix's
 * `send_update`. Runs after the current callback, as a separate diff. A
 * component that is not (or no longer) there is skipped.
 *
 * @example
 * socket.sendUpdate(Cart, { id: 'cart', status: 'cancelled' })
 * socket.sendUpdate(myself, { loading: false })
 */
export interface SendUpdate {
  <P extends object>(component: LiveComponent<object, P>, assigns: Partial<P> & { readonly id: string | number }): void;
  (cid: number, assigns: Record<string, unknown>): void;
}

/** {@link SendUpdate} after `delayMs` (Phoenix's `send_update_after`); cancelled when the view ends. */
export interface SendUpdateAfter {
  <P extends object>(component: LiveComponent<object, P>, assigns: Partial<P> & { readonly id: string | number }, delayMs: number): void;
  (cid: number, assigns: Record<string, unknown>, delayMs: number): void;
}

/** The second argument of a component's `render`. */
export interface ComponentRenderMeta {
  /** This component's cid: the value for `phx-target` (Phoenix's `@myself`). */
  readonly myself: number;
  /** The upload configs this component allowed, by name. */
  readonly uploads: Readonly<Record<string, UploadConfigView>>;
}

/**
 * A stateful component's callbacks.
 *
 * @example
 * const definition: LiveComponentDefinition<{ on: boolean }> = {
 *   mount: (socket) => socket.assign({ on: false }),
 *   render: ({ on }, { myself }) => html`<button phx-click="toggle" phx-target="${myself}">${on ? 'on' : 'off'}</button>`,
 * }
 * const Toggle = createLiveComponent(definition)
 */
export interface LiveComponentDefinition<A extends object = Record<string, unknown>, P extends object = Record<string, unknown>> {
  /** Runs once, when the component first appears. */
  mount?(socket: ComponentSocket<A>): void | Promise<void>;
  /**
   * Runs with the props when the parent first places the component and each
   * time it places it with changed props (a prop differs by `===`), and with
   * the assigns of a `sendUpdate`. Default: assign every prop.
   */
  update?(props: P, socket: ComponentSocket<A>): void;
  /**
   * Replaces `update`: called once per render with every instance of this
   * component placed in it (in order), e.g. to load their data in one query.
   * Phoenix's `update_many`.
   */
  updateMany?(updates: readonly (readonly [props: P, socket: ComponentSocket<A>])[]): void;
  /** Handles events sent with `phx-target` pointing at this component. */
  handleEvent?(event: LiveEvent, socket: ComponentSocket<A>): void | Promise<void>;
  /** Gets the outcome of each `socket.startAsync(name, fn)` of this component. */
  handleAsync?(name: string, outcome: AsyncOutcome, socket: ComponentSocket<A>): void | Promise<void>;
  /** Colocated hooks and scripts this component uses. */
  readonly hooks?: readonly Colocated[];
  /** Must return a template with exactly one root element. `meta.myself` is the value for `phx-target`. */
  render(context: Readonly<A & { streams: StreamsOf<A> }>, meta: ComponentRenderMeta): Template;
}

/**
 * A stateless or stateful component, as `createLiveComponent` returns it.
 * @example
 * const Counter: LiveComponent<{ n: number }> = createLiveComponent({
 *   mount: (socket) => socket.assign({ n: 0 }),
 *   render: ({ n }) => html`<b>${n}</b>`,
 * })
 */
export type LiveComponent<A extends object = Record<string, unknown>, P extends object = Record<string, unknown>> = LiveComponentDefinition<A, P> & {
  readonly inletComponentDefinition: true;
};

/**
 * Defines a stateful component; render it with {@link liveComponent}.
 *
 * @example
 * const Toggle = createLiveComponent<{ on: boolean }>({
 *   mount: (s) => s.assign({ on: false }),
 *   handleEvent: (_e, s) => s.assign({ on: !s.assigns.on }),
 *   render: ({ on }, { myself }) => html`<button phx-click="t" phx-target="${myself}">${on ? 'on' : 'off'}</button>`,
 * })
 */
export function createLiveComponent<A extends object = Record<string, unknown>, P extends object = Record<string, unknown>>(
  definition: LiveComponentDefinition<A, P>,
): LiveComponent<A, P> {
  if (typeof definition.render !== 'function') throw new InletError('INLET_ERR_VIEW_INVALID', 'A component needs a render function.');
  return Object.freeze({ ...definition, inletComponentDefinition: true as const });
}

/** A component placed in a template. */
export interface ComponentPlacement extends ComponentMarker {
  readonly definition: LiveComponent<object, object>;
  readonly id: string;
  readonly props: Record<string, unknown>;
}

/**
 * Places a stateful component in a template; `id` identifies it among its siblings.
 *
 * @example
 * html`<div>${liveComponent(Toggle, { id: 'a' })}</div>`
 */
export function liveComponent<A extends object, P extends object>(
  definition: LiveComponent<A, P>,
  props: P & { id: string | number },
): ComponentPlacement {
  return {
    inletComponent: true,
    definition: definition as unknown as LiveComponent<object, object>,
    id: String(props.id),
    props: props,
  };
}
