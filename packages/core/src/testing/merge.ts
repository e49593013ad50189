/**
 * Applies wire diffs to a rendered tree and prints HTML, as a browser client
 * would: enough for tests to read what the user would see.
 */
import { STREAM_REF, type StreamDom } from './streams.js';

type Tree = Record<string, unknown>;

function isObj(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * Replaces statics given as indexes into a `"p"` template table by the
 * statics themselves, and drops the tables (the official client does the same
 * while rendering).
 * @example
 * resolveTemplates(diff, diff.p) // statics given as indexes become the statics
 */
export function resolveTemplates(node: unknown, templates?: Record<string, string[]>): void {
  if (Array.isArray(node)) {
    for (const item of node) resolveTemplates(item, templates);
    return;
  }
  if (!isObj(node)) return;
  let table = templates;
  if (isObj(node.p)) {
    table = templates ?? (node.p as Record<string, string[]>);
    delete node.p;
  }
  if (typeof node.s === 'number' && table) node.s = table[node.s];
  for (const [key, value] of Object.entries(node)) if (key !== 's') resolveTemplates(value, table);
}

/**
 * Merges `diff` into `target` (mutating) and returns the result.
 * @example
 * let tree = joinReply.rendered
 * tree = mergeDiff(tree, diff) // as the client merges a diff
 */
export function mergeDiff(target: Tree, diff: Tree): Tree {
  if (diff.s !== undefined) return clone(diff);
  if (isObj(diff.k)) {
    mergeKeyed(target, diff);
    return target;
  }
  for (const [key, val] of Object.entries(diff)) {
    const old = target[key];
    if (isObj(val) && val.s === undefined && isObj(old)) target[key] = mergeDiff(old, val);
    else target[key] = clone(val);
  }
  return target;
}

function mergeKeyed(target: Tree, diff: Tree): void {
  const src = diff.k as Tree;
  const tk = target.k as Tree;
  const before = src.km ? clone(tk) : tk;
  for (const [i, entry] of Object.entries(src)) {
    if (i === 'kc' || i === 'km') continue;
    if (Array.isArray(entry)) {
      const [from, d] = entry as [number, Tree];
      tk[i] = mergeDiff(clone(before[from] as Tree), d);
    } else if (typeof entry === 'number') {
      tk[i] = clone(before[entry]);
    } else if (isObj(entry)) {
      tk[i] = mergeDiff(isObj(tk[i]) ? (tk[i]) : {}, entry);
    }
  }
  const count = src.kc as number;
  for (let i = count; i < ((tk.kc as number) ?? 0); i++) delete tk[i];
  tk.kc = count;
  if (diff.stream !== undefined) target.stream = diff.stream;
}

/**
 * Renders a tree (with its components) to HTML. Stream comprehensions render
 * the items `streams` holds for them (see `streams.ts`).
 * @example
 * toHtml(mergeDiff(tree, diff), components) // '<p>1</p>'
 */
export function toHtml(tree: Tree, components: Record<string, Tree> = {}, streams?: StreamDom): string {
  const statics = (tree.s as string[] | undefined) ?? [];
  if (isObj(tree.k)) {
    const k = tree.k;
    let out = '';
    for (let i = 0; i < (k.kc as number); i++) out += fill(statics, k[i] as Tree, components, streams);
    if (streams && typeof tree[STREAM_REF] === 'string') out += streams.html(tree[STREAM_REF], (s, e) => fill(s, e, components, streams));
    return out;
  }
  return fill(statics, tree, components, streams);
}

/** The HTML of one entry (or node): `statics` filled with `dyns`. */
export function fill(statics: string[], dyns: Tree, components: Record<string, Tree>, streams?: StreamDom): string {
  let out = statics[0] ?? '';
  for (let i = 1; i < statics.length; i++) {
    const d = dyns[i - 1];
    if (typeof d === 'string') out += d;
    else if (typeof d === 'number') {
      const c = components[d];
      if (c) out += toHtml(c, components, streams);
    } else if (isObj(d)) out += toHtml(d, components, streams);
    out += statics[i];
  }
  return out;
}
