/**
 * Stateful components of one view: cids, mounting, props updates, rendering
 * and destruction. Cids come from an increasing counter and are never reused.
 */
import { InletError } from '../errors.js';
import type { WireObject, WireValue } from '../render/keys.js';
import type { Colocated } from '../render/colocated.js';
import type { PushEventOptions } from './socket.js';
import { StreamSet, type StreamConfig, type StreamInsertOptions, type StreamOptions } from '../render/stream.js';
import { releaseStreamEntries, renderTemplate, type ChildViewMarker, type Dyn, type RenderContext, type RList, type RNode } from '../render/tree.js';
import { diff, toWire } from '../render/wire.js';
import type { ComponentPlacement, ComponentSocket, LiveComponent, LiveEvent } from './view.js';

interface ComponentState {
  readonly cid: number;
  readonly key: string;
  readonly definition: LiveComponent<object, object>;
  readonly socket: ComponentSocketImpl;
  mounted: boolean;
  /** The tree last sent to the client. */
  sent?: RNode;
}

class ComponentSocketImpl implements ComponentSocket<Record<string, unknown>> {
  readonly assigns: Record<string, unknown> & { streams: Record<string, never> };
  readonly streams: StreamSet;
  dirty = true;

  constructor(
    readonly id: string,
    readonly cid: number,
    private readonly parent: ComponentParent,
  ) {
    this.streams = new StreamSet(`${cid}-`);
    this.assigns = { streams: this.streams.view() as Record<string, never> };
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
}

/** What a component may ask of its view's socket (navigation and flash belong to the view). */
export interface ComponentViewApi {
  pushPatch(to: string, options?: { replace?: boolean }): void;
  pushNavigate(to: string, options?: { replace?: boolean }): void;
  redirect(to: string): void;
  putFlash(key: string, message: string): void;
  clearFlash(key?: string): void;
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
  /** Renders a child live view placed by the view or one of its components. */
  child?(marker: ChildViewMarker): Dyn;
}

const definitionIds = new WeakMap<object, number>();
let nextDefinitionId = 0;

function definitionKey(definition: object, id: string): string {
  let n = definitionIds.get(definition);
  if (n === undefined) definitionIds.set(definition, (n = nextDefinitionId++));
  return `${n}:${id}`;
}

/**
 * The components of one view instance.
 */
export class Components {
  readonly #byKey = new Map<string, ComponentState>();
  readonly #byCid = new Map<number, ComponentState>();
  readonly #dying = new Set<number>();
  readonly #parent: ComponentParent;
  #nextCid = 1;
  #pendingMounts: Promise<void>[] = [];
  /** Stream lists rendered since the last {@link releaseStreams}. */
  #streamLists: RList[] = [];

  constructor(parent: ComponentParent) {
    this.#parent = parent;
  }

  get size(): number {
    return this.#byCid.size;
  }

  /** The render context that resolves component placements to cids (and records stream lists in `streams`). */
  context(streams?: RList[]): RenderContext {
    const component = (marker: object): number => this.#place(marker as ComponentPlacement);
    const parent = this.#parent;
    const hook = parent.hook ? (item: Colocated) => parent.hook?.(item) : undefined;
    const child = parent.child ? (marker: ChildViewMarker) => (parent.child as (m: ChildViewMarker) => Dyn)(marker) : undefined;
    return {
      component,
      ...(streams ? { stream: (list: RList) => streams.push(list) } : {}),
      ...(hook ? { hook } : {}),
      ...(child ? { child } : {}),
    };
  }

  /** Drops the entries of the stream lists components rendered, once they have been sent. */
  releaseStreams(): void {
    releaseStreamEntries(this.#streamLists);
    this.#streamLists = [];
  }

  #place(placement: ComponentPlacement): number {
    const key = definitionKey(placement.definition, placement.id);
    let state = this.#byKey.get(key);
    if (!state) {
      const cid = this.#nextCid++;
      state = {
        cid,
        key,
        definition: placement.definition,
        socket: new ComponentSocketImpl(placement.id, cid, this.#parent),
        mounted: false,
      };
      this.#byKey.set(key, state);
      this.#byCid.set(cid, state);
      for (const item of placement.definition.hooks ?? []) this.#parent.hook?.(item);
      const result = state.definition.mount?.(state.socket);
      if (result instanceof Promise) this.#pendingMounts.push(result);
      state.mounted = true;
    }
    this.#dying.delete(state.cid);
    const props = { ...placement.props, id: placement.id };
    if (state.definition.update) state.definition.update(props, state.socket);
    else state.socket.assign(props);
    return state.cid;
  }

  /** Awaits async component mounts started by the last render. */
  async settle(): Promise<void> {
    while (this.#pendingMounts.length > 0) {
      const pending = this.#pendingMounts;
      this.#pendingMounts = [];
      await Promise.all(pending);
    }
  }

  /** Whether any component needs rendering. */
  get dirty(): boolean {
    for (const state of this.#byCid.values()) if (state.socket.dirty) return true;
    return false;
  }

  /**
   * Renders every dirty component (and components they place) and returns the
   * `"c"` part of a diff, or undefined. With `full`, every component is sent whole.
   */
  render(full: boolean): WireObject | undefined {
    let out: WireObject | undefined;
    const ctx = this.context(this.#streamLists);
    // What the client holds for each component rendered in this call: a component rendered
    // again in a later pass is diffed against it, so no pass's changes are lost.
    const base = new Map<ComponentState, RNode | undefined>();
    // Rendering a component can place (and dirty) others: repeat until none is dirty.
    for (let pass = 0; pass < 100; pass++) {
      const dirty = [...this.#byCid.values()].filter((s) => s.socket.dirty);
      if (dirty.length === 0) break;
      for (const state of dirty) {
        state.socket.dirty = false;
        if (!base.has(state)) base.set(state, state.sent);
        const template = state.definition.render(state.socket.assigns, { myself: state.cid });
        const node = renderTemplate(template, ctx, true);
        if (!startsWithElement(node)) {
          throw new InletError('INLET_ERR_RENDER_COMPONENT', `Component "${state.socket.id}" (cid ${state.cid}).`);
        }
        const before = base.get(state);
        const d: WireValue | undefined = full || !before ? toWire(node) : diff(before, node);
        state.sent = node;
        if (d !== undefined) (out ??= {})[state.cid] = d;
        else if (out) delete out[state.cid];
      }
    }
    // Streams are forgotten once every pass has rendered them (a component may pass its
    // stream to another it places).
    for (const state of base.keys()) state.socket.streams.prune();
    return out;
  }

  /** Every component's current tree, for full HTML renders. */
  tree(cid: number): RNode | undefined {
    return this.#byCid.get(cid)?.sent;
  }

  /** Dispatches an event to a component. Unknown cids are ignored (the client may race a destroy). */
  async handleEvent(cid: number, event: LiveEvent): Promise<boolean> {
    const state = this.#byCid.get(cid);
    if (!state) return false;
    await state.definition.handleEvent?.(event, state.socket);
    return true;
  }

  has(cid: number): boolean {
    return this.#byCid.has(cid);
  }

  /** The client will remove these cids; a render before `destroyed` revives them. */
  willDestroy(cids: readonly number[]): void {
    for (const cid of cids) if (this.#byCid.has(cid)) this.#dying.add(cid);
  }

  /** Forgets components the client removed; returns the cids actually deleted. */
  destroyed(cids: readonly number[]): number[] {
    const deleted: number[] = [];
    for (const cid of cids) {
      if (!this.#dying.has(cid)) continue;
      const state = this.#byCid.get(cid);
      this.#dying.delete(cid);
      if (!state) continue;
      this.#byCid.delete(cid);
      this.#byKey.delete(state.key);
      deleted.push(cid);
    }
    return deleted;
  }
}

function startsWithElement(node: RNode): boolean {
  const first = node.statics[0] ?? '';
  return /^\s*<[a-zA-Z]/.test(first);
}

