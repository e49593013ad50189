/**
 * The DOM side of streams for the in-process test client: the official
 * client keeps stream items in the page, not in its rendered tree, so the
 * test client keeps them here, applying each render's inserts, deletes,
 * resets and limits the way the client's DOM patch does (checked against
 * Chromium by test/e2e/streams.e2e.test.ts).
 *
 * Simplification: `at` and `limit` count stream items only, where the
 * browser counts every child of the container (a container with non-stream
 * children can differ).
 */
type Tree = Record<string, unknown>;

function isObj(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Marks a comprehension whose stream has been applied: its items live in {@link StreamDom}. */
export const STREAM_REF = '__streamRef';

interface Item {
  readonly id: string;
  statics: string[];
  entry: Tree;
}

interface Insert {
  readonly at: number;
  readonly limit: number | null;
  readonly updateOnly: boolean;
}

type Stream = [string, [string, number, number | null, boolean][], string[], true?];

/** Renders one entry of a comprehension (statics filled with the entry's dynamics). */
export type EntryRenderer = (statics: string[], entry: Tree) => string;

const ID = /^\s*<[a-zA-Z][^\s/>]*[^>]*?\sid="([^"]*)"/;

/**
 * Stream items by ref, in DOM order.
 * @example
 * const dom = new StreamDom(); dom.apply(diff); toHtml(tree, components, dom)
 */
export class StreamDom {
  readonly #items = new Map<string, Item[]>();

  /**
   * Finds the comprehensions of `roots` that carry a `"stream"` from the
   * last merge and applies them: resets and deletes first, then inserts in
   * order, as the client does. Their entries move here, and the trees keep
   * an empty comprehension marked with its ref.
   */
  apply(roots: readonly Tree[], render: EntryRenderer): void {
    const found: { node: Tree; stream: Stream }[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const n of node) walk(n);
        return;
      }
      if (!isObj(node)) return;
      for (const [key, value] of Object.entries(node)) if (key !== 's' && key !== 'stream') walk(value);
      if (Array.isArray(node.stream) && isObj(node.k)) found.push({ node, stream: node.stream as Stream });
    };
    for (const root of roots) walk(root);
    if (found.length === 0) return;
    const inserts = new Map<string, Insert>();
    for (const { stream } of found) for (const [id, at, limit, updateOnly] of stream[1]) inserts.set(id, { at, limit, updateOnly });
    for (const { stream } of found) {
      const [ref, , deletes, reset] = stream;
      if (reset !== undefined) this.#items.set(ref, []);
      for (const id of deletes) this.#remove(id);
    }
    for (const { node, stream } of found) {
      const ref = stream[0];
      const statics = node.s as string[];
      const k = node.k as Tree;
      const list = this.#items.get(ref) ?? [];
      this.#items.set(ref, list);
      for (let i = 0; i < ((k.kc as number) ?? 0); i++) {
        const entry = k[i] as Tree;
        const id = ID.exec(render(statics, entry))?.[1];
        if (id === undefined) continue;
        const existing = list.find((it) => it.id === id);
        if (existing) {
          existing.statics = statics;
          existing.entry = entry;
          continue;
        }
        const insert = inserts.get(id) ?? { at: -1, limit: null, updateOnly: false };
        if (insert.updateOnly) continue;
        const at = insert.at < 0 || insert.at >= list.length ? list.length : insert.at;
        list.splice(at, 0, { id, statics, entry });
        if (insert.limit !== null) {
          if (insert.limit < 0 && list.length > -insert.limit) list.splice(0, list.length + insert.limit);
          else if (insert.limit >= 0 && list.length > insert.limit) list.splice(insert.limit);
        }
      }
      node.k = { kc: 0 };
      node[STREAM_REF] = ref;
      delete node.stream;
    }
  }

  #remove(id: string): void {
    for (const list of this.#items.values()) {
      const i = list.findIndex((it) => it.id === id);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /** The HTML of stream `ref`'s items. */
  html(ref: string, render: EntryRenderer): string {
    return (this.#items.get(ref) ?? []).map((it) => render(it.statics, it.entry)).join('');
  }

  /** The DOM ids of stream `ref`'s items, in order. */
  ids(ref: string): string[] {
    return (this.#items.get(ref) ?? []).map((it) => it.id);
  }
}
