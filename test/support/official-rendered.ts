/**
 * The official client's merge and render code (phoenix_live_view's `Rendered`
 * class, imported from the npm package's shipped sources), wrapped so tests
 * can feed it the server's join reply and diffs and read the resulting HTML.
 */
// The shipped TypeScript sources, processed by Vite (see `server.deps.inline` in vitest.config.ts).
// @ts-expect-error: the package ships no types for this internal module; it is typed by RenderedClass below.
import RenderedSource from '../../node_modules/phoenix_live_view/assets/js/phoenix_live_view/rendered.js';

type Tree = Record<string, unknown>;

interface RenderedInstance {
  mergeDiff(diff: Tree): void;
  get(): Tree;
  toString(): { buffer: string };
}
type RenderedClass = new (viewId: string, rendered: Tree) => RenderedInstance;

async function load(): Promise<RenderedClass> {
  // The client's deepClone looks for structuredClone on `window`.
  (globalThis as Record<string, unknown>).window ??= globalThis;
  return RenderedSource as unknown as RenderedClass;
}

/** Removes the attributes the client adds for its own bookkeeping. */
export function stripClientAttributes(html: string): string {
  return html.replace(/ data-phx-(?:id|component|view|skip)="[^"]*"/g, '').replace(/ data-phx-skip(?=[ >])/g, '');
}

/** A view's rendered state as the official client keeps it. */
export class OfficialRendered {
  readonly #viewId: string;
  #rendered: RenderedInstance;
  readonly #Ctor: RenderedClass;

  private constructor(Ctor: RenderedClass, viewId: string, rendered: Tree) {
    this.#Ctor = Ctor;
    this.#viewId = viewId;
    this.#rendered = new Ctor(viewId, structuredClone(rendered));
    this.#rendered.toString();
  }

  static async create(viewId: string, rendered: Tree): Promise<OfficialRendered> {
    return new OfficialRendered(await load(), viewId, rendered);
  }

  /** Applies a diff as the client does (title, events and reply taken out first). */
  merge(diff: Tree): void {
    const d = structuredClone(diff);
    delete d.t;
    delete d.e;
    delete d.r;
    this.#rendered.mergeDiff(d);
    this.#rendered.toString();
  }

  /** The full HTML of the current state, without client bookkeeping attributes. */
  html(): string {
    const fresh = new this.#Ctor(this.#viewId, structuredClone(this.#rendered.get()));
    return stripClientAttributes(fresh.toString().buffer);
  }
}
