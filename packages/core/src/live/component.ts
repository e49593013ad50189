/**
 * Stateful components of one view: cids, mounting, props updates
 * (`update`/`updateMany`, from renders and `sendUpdate`), rendering and
 * destruction. Cids come from an increasing counter and are never reused.
 */
import { InletError } from '../errors.js';
import type { WireObject, WireValue } from '../render/keys.js';
import type { Colocated } from '../render/colocated.js';
import { releaseStreamEntries, renderTemplate, type ChildViewMarker, type Dyn, type RenderContext, type RList, type RNode } from '../render/tree.js';
import { diff, toWire } from '../render/wire.js';
import { LiveStream } from '../render/stream.js';
import { ComponentSocketImpl, type ComponentParent } from './component-socket.js';
import type { ComponentPlacement, ComponentRenderMeta, LiveComponent, LiveEvent, UpdateTarget } from './view.js';

export { ComponentSocketImpl, type ComponentParent, type ComponentViewApi, type ComponentScoped } from './component-socket.js';

interface ComponentState {
  readonly cid: number;
  readonly key: string;
  readonly definition: LiveComponent<object, object>;
  readonly socket: ComponentSocketImpl;
  /** The tree last sent to the client (none: the next render is sent whole). */
  sent?: RNode;
  /** The props the parent placed it with last. */
  props?: Record<string, unknown>;
}

/** Props waiting for their component's `update`/`updateMany`. */
interface PendingUpdate {
  readonly state: ComponentState;
  readonly props: Record<string, unknown>;
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
  #pendingUpdates: PendingUpdate[] = [];
  /** Stream lists rendered since the last {@link releaseStreams}. */
  #streamLists: RList[] = [];

  constructor(parent: ComponentParent) {
    this.#parent = parent;
  }

  get size(): number {
    return this.#byCid.size;
  }

  /**
   * The render context that resolves component placements to cids (and
   * records stream lists in `streams`). One context is one render: placing
   * the same component twice in it is an error.
   */
  context(streams?: RList[]): RenderContext {
    const placed = new Set<string>();
    const component = (marker: object): number => this.#place(marker as ComponentPlacement, placed);
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

  #place(placement: ComponentPlacement, placed: Set<string>): number {
    const key = definitionKey(placement.definition, placement.id);
    if (placed.has(key)) {
      throw new InletError('INLET_ERR_COMPONENT_DUPLICATE_ID', `"${placement.id}" is placed twice in one render; give each component its own id.`);
    }
    placed.add(key);
    let state = this.#byKey.get(key);
    const props = { ...placement.props, id: placement.id };
    let fresh = false;
    if (!state) {
      fresh = true;
      const cid = this.#nextCid++;
      state = { cid, key, definition: placement.definition, socket: new ComponentSocketImpl(placement.id, cid, this.#parent, placement.definition) };
      this.#byKey.set(key, state);
      this.#byCid.set(cid, state);
      for (const item of placement.definition.hooks ?? []) this.#parent.hook?.(item);
      const result = state.definition.mount?.(state.socket);
      if (result instanceof Promise) this.#pendingMounts.push(result);
    } else if (this.#dying.delete(state.cid)) {
      // Used again between cids_will_destroy and cids_destroyed: revived, and
      // rendered whole so every component inside it is placed (and revived) too.
      state.sent = undefined;
      state.socket.dirty = true;
      fresh = true;
    }
    // As with Phoenix's change tracking, update runs only when the parent places the component with changed props.
    if (fresh || !state.props || !sameProps(state.props, props)) {
      state.props = props;
      this.#pendingUpdates.push({ state, props });
    }
    return state.cid;
  }

  /** Runs `update`/`updateMany` for the components placed since the last call, grouped by definition. */
  #flushUpdates(): void {
    while (this.#pendingUpdates.length > 0) {
      const pending = this.#pendingUpdates;
      this.#pendingUpdates = [];
      const byDefinition = new Map<LiveComponent<object, object>, PendingUpdate[]>();
      for (const p of pending) {
        const list = byDefinition.get(p.state.definition);
        if (list) list.push(p);
        else byDefinition.set(p.state.definition, [p]);
      }
      for (const [definition, list] of byDefinition) applyUpdates(definition, list);
    }
  }

  /** Awaits async component mounts started by the last render, then runs the placed components' updates. */
  async settle(): Promise<void> {
    while (this.#pendingMounts.length > 0) {
      const pending = this.#pendingMounts;
      this.#pendingMounts = [];
      await Promise.all(pending);
    }
    this.#flushUpdates();
  }

  /** Whether any component needs rendering. */
  get dirty(): boolean {
    for (const state of this.#byCid.values()) if (state.socket.dirty) return true;
    return false;
  }

  /** Marks a component for rendering (its extension state changed, e.g. its uploads). */
  markDirty(cid: number): void {
    const state = this.#byCid.get(cid);
    if (state) state.socket.dirty = true;
  }

  /**
   * Renders every dirty component (and components they place) and returns the
   * `"c"` part of a diff, or undefined. With `full`, every component is sent whole.
   */
  render(full: boolean): WireObject | undefined {
    let out: WireObject | undefined;
    const ctx = this.context(this.#streamLists);
    this.#flushUpdates();
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
        const meta: ComponentRenderMeta = { uploads: {}, ...this.#parent.componentMeta?.(state.cid), myself: state.cid };
        const template = state.definition.render(state.socket.assigns, meta);
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
      this.#flushUpdates();
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

  /**
   * Applies a `sendUpdate`: the component's `update`/`updateMany` with
   * `assigns`. False when no such component exists (any more).
   */
  update(target: UpdateTarget, assigns: Record<string, unknown>): boolean {
    let state: ComponentState | undefined;
    if (typeof target === 'number') state = this.#byCid.get(target);
    else if (typeof assigns.id === 'string' || typeof assigns.id === 'number') state = this.#byKey.get(definitionKey(target, String(assigns.id)));
    if (!state) return false;
    applyUpdates(state.definition, [{ state, props: { ...assigns } }]);
    return true;
  }

  /** The view ended: abort every component's async work. */
  endAsync(): void {
    for (const state of this.#byCid.values()) state.socket.endAsync();
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
      state.socket.endAsync();
      deleted.push(cid);
    }
    return deleted;
  }
}

function applyUpdates(definition: LiveComponent<object, object>, list: readonly PendingUpdate[]): void {
  if (definition.updateMany) {
    definition.updateMany(list.map((p) => [p.props, p.state.socket] as const));
    return;
  }
  for (const { state, props } of list) {
    if (definition.update) definition.update(props, state.socket);
    else state.socket.assign(props);
  }
}

/**
 * Same keys, and each value the same (`===`, as assigns compare). A stream
 * with changes queued since its last render counts as changed even though it
 * is the same object: in Phoenix a stream operation changes the assign.
 */
function sameProps(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  for (const key of keys) {
    const value = b[key];
    if (!Object.hasOwn(a, key) || a[key] !== value) return false;
    if (value instanceof LiveStream && value.pending) return false;
  }
  return true;
}

function startsWithElement(node: RNode): boolean {
  const first = node.statics[0] ?? '';
  return /^\s*<[a-zA-Z]/.test(first);
}
