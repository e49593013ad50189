/**
 * Turns templates into a rendered tree: statics and dynamics, with
 * comprehensions for lists and component slots for stateful components.
 * Pure: no I/O, no wire format (see `wire.ts`).
 */
import { InletError } from '../errors.js';
import { escapeHtml } from './escape.js';
import { ColocatedHook, type Colocated } from './colocated.js';
import { JS } from './js.js';
import { StreamRender, type StreamWire } from './stream.js';
import { Repeat, SafeHtml, Template } from './template.js';

/** A dynamic part: escaped HTML text, a nested node, a list, or a component. */
export type Dyn = string | RNode | RList | RComponent;

/** A rendered template: `statics.length === dyns.length + 1`. */
export interface RNode {
  readonly kind: 'node';
  readonly statics: readonly string[];
  readonly dyns: readonly Dyn[];
  /** A component root: the statics start with one root element. */
  readonly root?: boolean;
}

/** A comprehension: every entry fills the same statics. */
export interface RList {
  readonly kind: 'list';
  readonly statics: readonly string[];
  readonly entries: readonly (readonly Dyn[])[];
  /** Entry keys, for keyed lists ({@link repeat}). */
  readonly keys?: readonly (string | number)[];
  /**
   * Set on a stream's list: the entries are the stream's pending inserts, and
   * this is the annotation the client applies to its DOM. Stream entries are
   * released once sent (see {@link releaseStreamEntries}).
   */
  readonly stream?: StreamWire;
}

/** A stateful component rendered in place, by its cid. */
export interface RComponent {
  readonly kind: 'cid';
  readonly cid: number;
}

/** A reference to a stateful component inside a template; see `live/component.ts`. */
export interface ComponentMarker {
  readonly inletComponent: true;
}

/** A child live view placed in a template; see `live/children.ts`. */
export interface ChildViewMarker {
  readonly inletChildView: true;
}

/** What rendering needs from its surroundings. */
export interface RenderContext {
  /** Resolves a component marker to the cid that will render it. */
  component?(marker: ComponentMarker): number;
  /** Renders a child live view's container (its content joins separately, or is filled in by the HTTP render). */
  child?(marker: ChildViewMarker): Dyn;
  /** Told about every stream list rendered, so its entries can be released after sending. */
  stream?(list: RList): void;
  /** Told about every colocated hook a template names (the app bundles them). */
  hook?(hook: Colocated): void;
}

/** Statics used for lists whose items do not share one template. */
const WRAP_STATICS: readonly string[] = Object.freeze(['', '']);
const EMPTY: Dyn = '';

/**
 * Renders a template into a tree.
 *
 * @example
 * const tree = renderTemplate(html`<b>${n}</b>`)
 */
export function renderTemplate(template: Template, ctx: RenderContext = {}, root = false): RNode {
  const values = template.values;
  const dyns: Dyn[] = new Array<Dyn>(values.length);
  for (let i = 0; i < values.length; i++) dyns[i] = toDyn(values[i], ctx);
  return root ? { kind: 'node', statics: template.strings, dyns, root } : { kind: 'node', statics: template.strings, dyns };
}

function toDyn(value: unknown, ctx: RenderContext): Dyn {
  switch (typeof value) {
    case 'string':
      return escapeHtml(value);
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : EMPTY;
    case 'undefined':
      return EMPTY;
    case 'object':
      if (value === null) return EMPTY;
      if (value instanceof Template) return renderTemplate(value, ctx);
      if (value instanceof SafeHtml) return value.value;
      if (value instanceof JS) return escapeHtml(value.toString());
      if (value instanceof ColocatedHook) {
        ctx.hook?.(value);
        return escapeHtml(value.name);
      }
      if (Array.isArray(value)) return listOf(value, undefined, ctx);
      if (value instanceof StreamRender) return streamList(value, ctx);
      if (value instanceof Repeat) {
        const items = value.items;
        const keys = items.map((item, i) => value.key(item, i));
        return listOf(items.map((item, i) => value.render(item, i)), keys, ctx);
      }
      if ((value as Partial<ComponentMarker>).inletComponent === true) {
        if (!ctx.component) {
          throw new InletError('INLET_ERR_RENDER_VALUE', 'Components can only be rendered inside a live view.');
        }
        return { kind: 'cid', cid: ctx.component(value as ComponentMarker) };
      }
      if ((value as Partial<ChildViewMarker>).inletChildView === true) {
        if (!ctx.child) throw new InletError('INLET_ERR_RENDER_VALUE', 'Child views can only be rendered inside a live view.');
        return ctx.child(value as ChildViewMarker);
      }
      break;
    default:
      break;
  }
  throw new InletError(
    'INLET_ERR_RENDER_VALUE',
    `Got ${describe(value)}; interpolate strings, numbers, templates, arrays of templates, or safe(...).`,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}

function listOf(items: readonly unknown[], keys: (string | number)[] | undefined, ctx: RenderContext): Dyn {
  if (items.length === 0) return keys ? { kind: 'list', statics: WRAP_STATICS, entries: [], keys: [] } : EMPTY;
  const first = items[0];
  const shared = first instanceof Template ? first.strings : undefined;
  let sameTemplate = shared !== undefined;
  for (let i = 1; sameTemplate && i < items.length; i++) {
    const item = items[i];
    sameTemplate = item instanceof Template && item.strings === shared;
  }
  const entries: Dyn[][] = new Array<Dyn[]>(items.length);
  if (sameTemplate && shared) {
    for (let i = 0; i < items.length; i++) {
      const values = (items[i] as Template).values;
      const dyns: Dyn[] = new Array<Dyn>(values.length);
      for (let j = 0; j < values.length; j++) dyns[j] = toDyn(values[j], ctx);
      entries[i] = dyns;
    }
    return keys ? { kind: 'list', statics: shared, entries, keys } : { kind: 'list', statics: shared, entries };
  }
  for (let i = 0; i < items.length; i++) entries[i] = [toDyn(items[i], ctx)];
  return keys ? { kind: 'list', statics: WRAP_STATICS, entries, keys } : { kind: 'list', statics: WRAP_STATICS, entries };
}

function streamList(value: StreamRender, ctx: RenderContext): RList {
  const stream = value.stream;
  const items = stream.entries().map(([id, item]) => value.render(item, id));
  const rendered = listOf(items, undefined, ctx);
  let list: RList;
  if (typeof rendered === 'string' || rendered.kind !== 'list') {
    // No pending inserts: reuse the item statics last sent, so the client's copy stays valid.
    list = { kind: 'list', statics: stream.statics ?? WRAP_STATICS, entries: [], stream: stream.wire() };
  } else {
    if (rendered.statics !== WRAP_STATICS) stream.statics = rendered.statics;
    list = { kind: 'list', statics: rendered.statics, entries: rendered.entries, stream: stream.wire() };
  }
  ctx.stream?.(list);
  return list;
}

const NO_ENTRIES: readonly (readonly Dyn[])[] = Object.freeze([]);

/**
 * Drops the entries of stream lists once their diff has been produced: the
 * client keeps stream items in its DOM, so the server never needs them again.
 *
 * @example
 * const lists: RList[] = []
 * const tree = renderTemplate(t, { stream: (l) => lists.push(l) })
 * send(toWire(tree)); releaseStreamEntries(lists)
 */
export function releaseStreamEntries(lists: readonly RList[]): void {
  for (const list of lists) (list as { entries: readonly (readonly Dyn[])[] }).entries = NO_ENTRIES;
}

/** Resolves a component's cid to its rendered tree, for {@link treeToHtml}. */
export type ComponentLookup = (cid: number) => RNode | undefined;

/**
 * The full HTML of a tree. Components are rendered inline through `lookup`.
 *
 * @example
 * treeToHtml(renderTemplate(html`<b>${'<'}</b>`)) // '<b>&lt;</b>'
 */
export function treeToHtml(dyn: Dyn, lookup?: ComponentLookup): string {
  const out: string[] = [];
  write(dyn, out, lookup);
  return out.join('');
}

function write(dyn: Dyn, out: string[], lookup: ComponentLookup | undefined): void {
  if (typeof dyn === 'string') {
    out.push(dyn);
    return;
  }
  switch (dyn.kind) {
    case 'node':
      writeFilled(dyn.statics, dyn.dyns, out, lookup);
      return;
    case 'list':
      for (const entry of dyn.entries) writeFilled(dyn.statics, entry, out, lookup);
      return;
    case 'cid': {
      const node = lookup?.(dyn.cid);
      if (node) write(node, out, lookup);
      return;
    }
  }
}

function writeFilled(statics: readonly string[], dyns: readonly Dyn[], out: string[], lookup: ComponentLookup | undefined): void {
  const last = statics.length - 1;
  for (let i = 0; i < last; i++) {
    out.push(statics[i] as string);
    const d = dyns[i];
    if (d !== undefined) write(d, out, lookup);
  }
  out.push(statics[last] as string);
}

/**
 * Renders a template straight to HTML, outside any view.
 *
 * @example
 * renderToString(html`<p>${name}</p>`)
 */
export function renderToString(template: Template): string {
  return treeToHtml(renderTemplate(template));
}
