/**
 * The wire form of rendered trees (protocol.md §3): full renders and diffs.
 *
 * A diff is computed by comparing the tree last sent with the new one. Nodes
 * from the same template (same statics object) are compared dynamic by
 * dynamic and only changed dynamics are sent; anything else is sent whole,
 * statics included, which the client treats as a replacement.
 *
 * Inside a comprehension, the statics of nested templates go once into the
 * comprehension's template table (`"p"`) and entries refer to them by index.
 */
import { DIFF, type WireObject, type WireValue } from './keys.js';
import type { Dyn, RList, RNode } from './tree.js';

/** Collects statics shared inside one comprehension into its `"p"` table. */
class StaticsTable {
  readonly #index = new Map<readonly string[], number>();
  readonly table: Record<string, readonly string[]> = {};

  ref(statics: readonly string[]): number {
    let i = this.#index.get(statics);
    if (i === undefined) {
      i = this.#index.size;
      this.#index.set(statics, i);
      this.table[i] = statics;
    }
    return i;
  }

  get size(): number {
    return this.#index.size;
  }
}

/**
 * The full wire form of a dynamic.
 *
 * @example
 * toWire(renderTemplate(html`<b>${1}</b>`)) // { s: ['<b>', '</b>'], 0: '1' }
 */
export function toWire(dyn: Dyn, table?: StaticsTable): WireValue {
  if (typeof dyn === 'string') return dyn;
  switch (dyn.kind) {
    case 'cid':
      return dyn.cid;
    case 'node': {
      const out: WireObject = {};
      const dyns = dyn.dyns;
      for (let i = 0; i < dyns.length; i++) out[i] = toWire(dyns[i] as Dyn, table);
      out[DIFF.STATIC] = table ? (table.ref(dyn.statics)) : dyn.statics;
      if (dyn.root) out[DIFF.ROOT] = 1;
      return out;
    }
    case 'list':
      return listToWire(dyn, table);
  }
}

function listToWire(list: RList, outer: StaticsTable | undefined): WireObject {
  const table = outer ?? new StaticsTable();
  const keyed: WireObject = {};
  const entries = list.entries;
  for (let i = 0; i < entries.length; i++) keyed[i] = entryToWire(entries[i] as readonly Dyn[], table);
  keyed[DIFF.KEYED_COUNT] = entries.length;
  const out: WireObject = {
    [DIFF.STATIC]: outer ? (outer.ref(list.statics)) : list.statics,
    [DIFF.KEYED]: keyed,
  };
  if (list.stream) out[DIFF.STREAM] = list.stream;
  if (!outer && table.size > 0) out[DIFF.TEMPLATES] = table.table;
  return out;
}

/**
 * A stream list whose statics the client already has: every pending insert
 * is sent whole (the client never keeps stream entries), or nothing when the
 * stream has no pending change.
 */
function diffStream(list: RList, outer: StaticsTable | undefined): WireObject | undefined {
  const stream = list.stream;
  if (!stream) return undefined;
  if (list.entries.length === 0 && stream[2].length === 0 && stream[3] !== true) return undefined;
  const table = outer ?? new StaticsTable();
  const keyed: WireObject = {};
  const entries = list.entries;
  for (let i = 0; i < entries.length; i++) keyed[i] = entryToWire(entries[i] as readonly Dyn[], table);
  keyed[DIFF.KEYED_COUNT] = entries.length;
  const out: WireObject = { [DIFF.KEYED]: keyed, [DIFF.STREAM]: stream };
  if (!outer && table.size > 0) out[DIFF.TEMPLATES] = table.table;
  return out;
}

function entryToWire(dyns: readonly Dyn[], table: StaticsTable): WireObject {
  const out: WireObject = {};
  for (let i = 0; i < dyns.length; i++) out[i] = toWire(dyns[i] as Dyn, table);
  return out;
}

/**
 * The diff that turns `prev` into `next` on the client, or `undefined` when
 * nothing changed.
 *
 * @example
 * diff(prevTree, nextTree) // { 1: 'new text' }
 */
export function diff(prev: Dyn | undefined, next: Dyn, table?: StaticsTable): WireValue | undefined {
  if (typeof next === 'string') return prev === next ? undefined : next;
  if (prev === undefined || typeof prev === 'string' || prev.kind !== next.kind) return toWire(next, table);
  switch (next.kind) {
    case 'cid':
      return prev.kind === 'cid' && prev.cid === next.cid ? undefined : next.cid;
    case 'node': {
      const p = prev as RNode;
      if (p.statics !== next.statics) return toWire(next, table);
      return diffDyns(p.dyns, next.dyns, table);
    }
    case 'list': {
      const p = prev as RList;
      if (p.statics !== next.statics || (p.stream === undefined) !== (next.stream === undefined)) return toWire(next, table);
      return next.stream ? diffStream(next, table) : diffList(p, next, table);
    }
  }
}

function diffDyns(prev: readonly Dyn[], next: readonly Dyn[], table: StaticsTable | undefined): WireObject | undefined {
  let out: WireObject | undefined;
  for (let i = 0; i < next.length; i++) {
    const d = diff(prev[i], next[i] as Dyn, table);
    if (d !== undefined) (out ??= {})[i] = d;
  }
  return out;
}

function diffList(prev: RList, next: RList, outer: StaticsTable | undefined): WireObject | undefined {
  const table = outer ?? new StaticsTable();
  const keyed: WireObject = {};
  let changed = prev.entries.length !== next.entries.length;
  let moved = false;
  const oldIndexOf = next.keys && prev.keys ? keyIndex(prev.keys) : undefined;
  const seen = oldIndexOf ? new Set<string | number>() : undefined;
  for (let i = 0; i < next.entries.length; i++) {
    const entry = next.entries[i] as readonly Dyn[];
    let from: number | undefined = i < prev.entries.length ? i : undefined;
    if (oldIndexOf && seen && next.keys) {
      const key = next.keys[i] as string | number;
      from = seen.has(key) ? undefined : oldIndexOf.get(key);
      seen.add(key);
    }
    if (from === undefined) {
      keyed[i] = entryToWire(entry, table);
      changed = true;
      continue;
    }
    const d = diffDyns(prev.entries[from] as readonly Dyn[], entry, table);
    if (from === i) {
      if (d) {
        keyed[i] = d;
        changed = true;
      }
    } else {
      keyed[i] = d ? [from, d] : from;
      moved = true;
      changed = true;
    }
  }
  if (!changed) return undefined;
  keyed[DIFF.KEYED_COUNT] = next.entries.length;
  if (moved) keyed[DIFF.KEYED_MOVED] = true;
  const out: WireObject = { [DIFF.KEYED]: keyed };
  if (!outer && table.size > 0) out[DIFF.TEMPLATES] = table.table;
  return out;
}

function keyIndex(keys: readonly (string | number)[]): Map<string | number, number> {
  const map = new Map<string | number, number>();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string | number;
    if (!map.has(k)) map.set(k, i);
  }
  return map;
}
