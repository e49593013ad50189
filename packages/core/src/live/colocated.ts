/**
 * The app's colocated hooks and scripts, gathered into one browser script
 * served at {@link COLOCATED_PATH}. Every page loads it (deferred, before
 * the client boot script), and `connect()` of `@inletjs/client` registers
 * the hooks and runs the scripts with no build step.
 *
 * Sources: the `hooks` of every routed view, the app's `hooks` option, and
 * any hook a template interpolates (registered when first rendered, so a
 * component's hooks are in the page its dead render produced).
 */
import { createHash } from 'node:crypto';
import { InletError } from '../errors.js';
import { ColocatedHook, ColocatedScript, ColocatedStyle, type Colocated } from '../render/colocated.js';

/**
 * Where the colocated script is served.
 *
 * @example
 * // the app's colocated hooks and scripts, as the browser gets them
 * const js = await (await fetch(new URL(COLOCATED_PATH, server.url))).text()
 */
export const COLOCATED_PATH = '/inlet/colocated.js';
/**
 * Where the colocated stylesheet is served.
 *
 * @example
 * // the app's colocated styles, as the browser gets them
 * const css = await (await fetch(new URL(COLOCATED_CSS_PATH, server.url))).text()
 */
export const COLOCATED_CSS_PATH = '/inlet/colocated.css';

/** The global the script fills and `connect()` reads: `{ hooks, scripts }`. */
export const COLOCATED_GLOBAL = '__inletColocated';

/**
 * Collects hooks and scripts by name; two different definitions under one
 * name are refused.
 */
export class ColocatedRegistry {
  readonly #items = new Map<string, Colocated>();
  readonly #warn: (message: string) => void;
  #bundle?: { text: string; hash: string };
  #styles?: { text: string; hash: string };
  /** Set once a page has referenced the bundle: later additions reach only later pages. */
  #served = false;

  constructor(warn: (message: string) => void = () => undefined) {
    this.#warn = warn;
  }

  /** Adds hooks and scripts declared up front. */
  add(items: Iterable<Colocated>): void {
    for (const item of items) this.#put(item, false);
  }

  /**
   * A template rendered `hook` (or placed a component declaring it): add it
   * if new. `live` is true for renders over the socket, after the page loaded.
   */
  seen(item: Colocated, live: boolean): void {
    this.#put(item, live);
  }

  #put(item: Colocated, live: boolean): void {
    if (!(item instanceof ColocatedHook) && !(item instanceof ColocatedScript) && !(item instanceof ColocatedStyle)) {
      throw new InletError('INLET_ERR_HOOK_SOURCE', 'A view’s `hooks` lists values made by hook(), clientScript() or clientStyle().');
    }
    const key = `${item.kind}:${item.name}`;
    const existing = this.#items.get(key);
    if (existing === item) return;
    if (existing) {
      if (existing.source === item.source) return;
      throw new InletError('INLET_ERR_HOOK_SOURCE', `Two different ${item.kind}s are named "${item.name}".`);
    }
    this.#items.set(key, item);
    this.#bundle = undefined;
    this.#styles = undefined;
    if (live && this.#served) {
      this.#warn(
        `hook "${item.name}" was first seen in a live render; pages loaded before it lack it. List it in its view's \`hooks\` (or the \`hooks\` option).`,
      );
    }
  }

  get size(): number {
    return this.#items.size;
  }

  /** The script text and its content hash. */
  bundle(): { text: string; hash: string } {
    if (this.#bundle) return this.#bundle;
    const hooks: string[] = [];
    const scripts: string[] = [];
    for (const item of this.#items.values()) {
      if (item instanceof ColocatedHook) hooks.push(`${JSON.stringify(item.name)}: ${item.source}`);
      else if (item instanceof ColocatedScript) scripts.push(`[${JSON.stringify(item.name)}, ${item.source}]`);
    }
    // `__name` stands in for esbuild's keepNames helper (tsx), which can appear inside serialised bodies.
    const text = `// Inlet colocated hooks and scripts (generated)
(function () {
var __name = function (f) { return f; };
window[${JSON.stringify(COLOCATED_GLOBAL)}] = {
hooks: {
${hooks.join(',\n')}
},
scripts: [
${scripts.join(',\n')}
]
};
})();
`;
    const hash = createHash('sha256').update(text).digest('base64url').slice(0, 16);
    this.#bundle = { text, hash };
    return this.#bundle;
  }

  /** The colocated styles as one stylesheet, and its content hash. */
  styles(): { text: string; hash: string } {
    if (this.#styles) return this.#styles;
    const parts: string[] = [];
    for (const item of this.#items.values()) if (item instanceof ColocatedStyle) parts.push(`/* ${item.name} */\n${item.source}\n`);
    const text = parts.join('\n');
    this.#styles = { text, hash: createHash('sha256').update(text).digest('base64url').slice(0, 16) };
    return this.#styles;
  }

  /** The tags a page loads the bundle (and stylesheet) with; nothing when there is nothing to load. */
  scriptTag(): string {
    if (this.#items.size === 0) return '';
    this.#served = true;
    let tags = '';
    const items = [...this.#items.values()];
    if (items.some((i) => i instanceof ColocatedStyle)) tags += `<link rel="stylesheet" href="${COLOCATED_CSS_PATH}?v=${this.styles().hash}">`;
    if (items.some((i) => !(i instanceof ColocatedStyle))) tags += `<script defer src="${COLOCATED_PATH}?v=${this.bundle().hash}"></script>`;
    return tags;
  }
}
