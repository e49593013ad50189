/**
 * Colocated hooks and scripts: browser code written in the same file as the
 * view that uses it, in TypeScript or JavaScript, type-checked with the rest
 * of the server code and shipped to the browser with no build step.
 *
 * A hook's methods are serialised with `Function.prototype.toString`, so the
 * browser receives exactly the JavaScript the server runs (after `tsc`, `tsx`
 * or Node's type stripping). Hook code must therefore be self-contained: it
 * may use browser globals and its own `this`, but not variables or imports
 * of the server module around it.
 *
 * Pure: no I/O. The app collects them into one script (`live/colocated.ts`).
 */
import { InletError } from '../errors.js';
import { escapeHtml } from './escape.js';
import { SafeHtml } from './template.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- browser-side values (elements, event payloads, the LiveSocket) are as loosely typed as the client's own HookInterface */

/**
 * `HTMLElement` when the program has the DOM lib; otherwise a loose element type.
 *
 * @example
 * hook('Ready', {
 *   mounted() { const el: HookElement = this.el; el.setAttribute('data-ready', '') },
 * })
 */
export type HookElement = typeof globalThis extends { HTMLElement: { prototype: infer E } } ? E : LooseElement;

/**
 * What a hook's element offers when the DOM lib is not loaded (server-only tsconfig).
 *
 * @example
 * // with no DOM lib in the tsconfig, `this.el` has this type: enough for most hooks
 * hook('Focus', { mounted() { this.el.classList.add('ready'); this.el.querySelector('input')?.focus() } })
 */
export interface LooseElement {
  id: string;
  value?: string;
  textContent: string | null;
  innerHTML: string;
  readonly dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  addEventListener(type: string, listener: (event: any) => void, options?: unknown): void;
  removeEventListener(type: string, listener: (event: any) => void, options?: unknown): void;
  querySelector(selector: string): any;
  querySelectorAll(selector: string): any;
  readonly classList: { add(...c: string[]): void; remove(...c: string[]): void; toggle(c: string, force?: boolean): boolean; contains(c: string): boolean };
  [key: string]: any;
}

/**
 * The reply a hook's `pushEvent` resolves with (the server's `socket.reply(...)`).
 *
 * @example
 * hook('More', {
 *   async mounted() {
 *     const reply: HookReply = await this.pushEvent('load-more', { after: this.el.dataset.last }) // the view's socket.reply({ done })
 *     if (reply.done) this.el.remove()
 *   },
 * })
 */
export type HookReply = Record<string, any>;

/**
 * `this` inside a hook's callbacks, as the official client provides it.
 *
 * @example
 * hook('Copy', {
 *   mounted(this: HookContext) { this.el.addEventListener('click', () => this.pushEvent('copied', { id: this.el.id })) },
 * })
 */
export interface HookContext {
  /** The element with `phx-hook`. */
  readonly el: HookElement;
  /** The client's LiveSocket. */
  readonly liveSocket: any;
  /** Pushes an event to the view (or the component the element is in); resolves with the server's reply. */
  pushEvent(event: string, payload?: unknown): Promise<HookReply>;
  pushEvent(event: string, payload: unknown, onReply: (reply: HookReply, ref: number) => void): void;
  /** Pushes to the view or component owning `target` (a selector, an element or a cid). */
  pushEventTo(target: string | number | object, event: string, payload?: unknown): Promise<unknown>;
  pushEventTo(target: string | number | object, event: string, payload: unknown, onReply: (reply: HookReply, ref: number) => void): void;
  /** Receives the server's `socket.pushEvent(event, payload)`. */
  handleEvent(event: string, callback: (payload: any) => void): object;
  removeHandleEvent(ref: object): void;
  /** Queues files for an upload input named `name` in this view. */
  upload(name: string, files: unknown): unknown;
  uploadTo(target: string | number | object, name: string, files: unknown): unknown;
  /** Client-side JS commands (show, hide, addClass…) on elements. */
  js(): any;
}

/**
 * A hook's callbacks (any other members are allowed: helpers and state).
 *
 * @example
 * const callbacks: HookCallbacks = { mounted() { console.log('in the page') }, destroyed() { console.log('gone') } }
 * export const Presence = hook('Presence', callbacks)
 */
export interface HookCallbacks {
  mounted?(): void;
  beforeUpdate?(): void;
  updated?(): void;
  destroyed?(): void;
  disconnected?(): void;
  reconnected?(): void;
}

/** A hook name: letters, digits, `_`, `.`, `-`, starting with a letter. */
const NAME = /^[A-Za-z][\w.-]*$/;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The source of one member of an object literal. */
function memberSource(owner: string, key: string, value: unknown): string {
  if (typeof value === 'function') {
    const src = Function.prototype.toString.call(value);
    if (/\{\s*\[native code\]\s*\}$/.test(src)) throw new InletError('INLET_ERR_HOOK_SOURCE', `${owner}: \`${key}\` is a native or bound function.`);
    const shorthand = new RegExp(`^(?:async\\s+)?(?:\\*\\s*)?(?:${escapeRe(key)}|${escapeRe(JSON.stringify(key))}|\\[[^\\]]*\\])\\s*\\(`);
    return shorthand.test(src) ? src : `${JSON.stringify(key)}: ${src}`;
  }
  try {
    const json = JSON.stringify(value);
    if (json === undefined) throw new Error('undefined');
    return `${JSON.stringify(key)}: ${json}`;
  } catch {
    throw new InletError('INLET_ERR_HOOK_SOURCE', `${owner}: \`${key}\` is neither a function nor plain data.`);
  }
}

/** Checks that `source` parses as JavaScript (without running it). */
function checkParses(owner: string, source: string): void {
  try {
    // Parsing only: the body is compiled, never called.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a syntax check of code that runs in the browser, never here
    new Function(`return (${source});`);
  } catch (e) {
    throw new InletError('INLET_ERR_HOOK_SOURCE', `${owner} does not serialise to valid JavaScript (${(e as Error).message}).`, { cause: e });
  }
}

/**
 * A hook defined beside its view. Interpolate it as the `phx-hook` value;
 * list it in the view's `hooks` so every page loads it.
 * @example
 * const Focus = hook('Focus', { mounted() { this.el.focus() } })
 * html`<input id="q" phx-hook=${Focus}>`
 */
export class ColocatedHook {
  readonly kind = 'hook';
  /** The name the client registers the hook under. */
  readonly name: string;
  /** The hook object as JavaScript source. */
  readonly source: string;

  /** @internal use {@link hook} */
  constructor(name: string, definition: object) {
    if (typeof name !== 'string' || !NAME.test(name)) throw new InletError('INLET_ERR_HOOK_SOURCE', `A hook name must match ${String(NAME)}, got ${JSON.stringify(name)}.`);
    if (typeof definition !== 'object' || definition === null) throw new InletError('INLET_ERR_HOOK_SOURCE', `Hook "${name}" needs an object of callbacks.`);
    const members = Object.keys(definition).map((key) => memberSource(`Hook "${name}"`, key, (definition as Record<string, unknown>)[key]));
    this.name = name;
    this.source = `{\n${members.join(',\n')}\n}`;
    checkParses(`Hook "${name}"`, this.source);
  }

  /** The name, so `phx-hook="${MyHook}"` renders it. */
  toString(): string {
    return this.name;
  }

  /**
   * The hook as an inline `<script>` for the template (Phoenix's `runtime`
   * colocated hooks): the client finds it in the page when an element
   * needs the hook, so it works without the colocated bundle, e.g. in
   * HTML rendered by something else. Pass the page's CSP `nonce` if any.
   *
   * @example
   * html`<div id="chart" phx-hook="${Chart}"></div>${Chart.inlineScript()}`
   */
  inlineScript(options: { readonly nonce?: string } = {}): SafeHtml {
    const nonce = options.nonce === undefined ? '' : ` nonce="${escapeHtml(options.nonce)}"`;
    // `<\/` keeps a "</script>" inside the source from closing the tag.
    const body = `window[${JSON.stringify(`phx_hook_${this.name}`)}] = function () { return ${this.source}; };`.replace(/<\//g, '<\\/');
    return new SafeHtml(`<script data-phx-runtime-hook="${escapeHtml(this.name)}"${nonce}>${body}</script>`);
  }
}

/**
 * Browser code run once per page, after the LiveSocket connects.
 * @example
 * const log = clientScript('log', (liveSocket) => liveSocket.enableDebug())
 * createLiveView({ hooks: [log], render: () => html`…` })
 */
export class ColocatedScript {
  readonly kind = 'script';
  readonly name: string;
  /** The function as JavaScript source. */
  readonly source: string;

  /** @internal use {@link clientScript} */
  constructor(name: string, fn: (liveSocket: any) => void) {
    if (typeof name !== 'string' || !NAME.test(name)) throw new InletError('INLET_ERR_HOOK_SOURCE', `A script name must match ${String(NAME)}, got ${JSON.stringify(name)}.`);
    if (typeof fn !== 'function') throw new InletError('INLET_ERR_HOOK_SOURCE', `Script "${name}" needs a function.`);
    const src = Function.prototype.toString.call(fn);
    // A method shorthand (`{ run(ls) {…} }.run`) is not an expression on its own.
    this.source = /^(?:async\s+)?(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>)/.test(src) ? src : `({ ${src} })[${JSON.stringify(fn.name)}]`;
    this.name = name;
    checkParses(`Script "${name}"`, this.source);
  }
}

/**
 * A global stylesheet written beside the view (Phoenix's global colocated CSS).
 * @example
 * const styles = clientStyle('cards', '.card { padding: 1rem }')
 * createLiveView({ hooks: [styles], render: () => html`<div class="card">…</div>` })
 */
export class ColocatedStyle {
  readonly kind = 'style';
  readonly name: string;
  /** The CSS text. */
  readonly source: string;

  /** @internal use {@link clientStyle} */
  constructor(name: string, css: string) {
    if (typeof name !== 'string' || !NAME.test(name)) throw new InletError('INLET_ERR_HOOK_SOURCE', `A style name must match ${String(NAME)}, got ${JSON.stringify(name)}.`);
    if (typeof css !== 'string') throw new InletError('INLET_ERR_HOOK_SOURCE', `Style "${name}" needs CSS text.`);
    this.name = name;
    this.source = css;
  }
}

/**
 * A colocated hook, script or stylesheet, as listed in a view's or the server's `hooks`.
 * @example
 * const hooks: Colocated[] = [hook('Focus', { mounted() { this.el.focus() } }), clientStyle('app', 'p { margin: 0 }')]
 */
export type Colocated = ColocatedHook | ColocatedScript | ColocatedStyle;

/**
 * Defines a hook beside the view that uses it. Inside the callbacks, `this`
 * is the client's hook object ({@link HookContext}) plus the hook's own
 * members. Use method syntax (`mounted() {…}`), not arrow functions, so
 * `this` is the hook.
 *
 * @example
 * export const PhoneNumber = hook('PhoneNumber', {
 *   mounted() {
 *     this.el.addEventListener('input', () => {
 *       const m = this.el.value.replace(/\D/g, '').match(/^(\d{3})(\d{3})(\d{4})$/)
 *       if (m) this.el.value = `${m[1]}-${m[2]}-${m[3]}`
 *     })
 *   },
 * })
 * export const Phone = createLiveView({
 *   hooks: [PhoneNumber],
 *   render: () => html`<input id="phone" phx-hook="${PhoneNumber}">`,
 * })
 */
export function hook<T extends object>(name: string, definition: T & HookCallbacks & ThisType<T & HookContext>): ColocatedHook {
  return new ColocatedHook(name, definition);
}

/**
 * Defines browser code that runs once per page with the connected
 * LiveSocket (Phoenix's colocated JS): listeners, globals, integrations.
 *
 * @example
 * export const ExecJs = clientScript('exec-js', (liveSocket) => {
 *   window.addEventListener('phx:js-exec', (e) => liveSocket.execJS(liveSocket.main.el, e.detail.cmd))
 * })
 */
export function clientScript(name: string, run: (liveSocket: any) => void): ColocatedScript {
  return new ColocatedScript(name, run);
}

/**
 * Defines CSS beside the view that uses it; every page links the app's
 * colocated styles as one stylesheet. The CSS is global (not scoped).
 *
 * @example
 * export const CardStyle = clientStyle('card', `.card { border: 1px solid #ddd; }`)
 * export const Cards = createLiveView({ hooks: [CardStyle], render: … })
 */
export function clientStyle(name: string, css: string): ColocatedStyle {
  return new ColocatedStyle(name, css);
}
