/**
 * JS commands: client-side operations the server writes into bindings
 * (`phx-click`, `phx-submit`, `phx-mounted`, `phx-remove`…) and the official
 * client runs without a round trip (or with one, for `push`). A command list
 * renders as the JSON the client parses: `[["show", {"to": "#modal"}], …]`.
 *
 * Every method returns a new `JS`, so commands compose and can be stored.
 * Static methods start a chain; instance methods continue it.
 *
 * Pure: no I/O.
 */
import { InletError } from '../errors.js';

/**
 * Where a command applies: a CSS selector over the whole document, or one
 * relative to the element the command runs on.
 *
 * @example
 * JS.hide({ to: '#menu' }) // a selector over the document
 * JS.addClass('open', { to: { closest: '.card' } }) // relative to the element the command runs on
 */
export type JSTarget = string | { readonly closest: string } | { readonly inner: string } | { readonly document: string };

/**
 * Transition classes: one string of classes applied while it runs, or
 * `[during, start, end]` (e.g. `['ease-out duration-300', 'opacity-0', 'opacity-100']`).
 *
 * @example
 * JS.show({ to: '#toast', transition: 'fade-in' })
 * JS.hide({ to: '#toast', transition: ['ease-in duration-200', 'opacity-100', 'opacity-0'] })
 */
export type JSTransition = string | readonly [string, string, string];

/**
 * A component (its `myself`, a cid) or a selector, for `push`'s `target`.
 *
 * @example
 * render: (assigns, { myself }) => html`<button phx-click="${JS.push('close', { target: myself })}">Close</button>`
 */
export type PushTarget = number | string;

/**
 * Options of `JS.push`: extra values, the handling component, loading states.
 * @example
 * JS.push('save', { value: { id: 7 }, target: myself, loading: '#form' })
 */
export interface PushOptions {
  /** Extra values sent with the event (merged over `phx-value-*`). */
  readonly value?: Record<string, unknown>;
  /** The component or element whose view (or component) handles the event. */
  readonly target?: PushTarget;
  /** Elements that get the loading classes while the event is in flight. */
  readonly loading?: string;
  /** Shows the page loading state (the `phx:page-loading-start` event) while in flight. */
  readonly pageLoading?: boolean;
}

interface TimeOptions {
  /** Transition time in ms (the client's default is 200). */
  readonly time?: number;
  /** Block the UI (and later patches of the element) until the transition ends. Default true on the client. */
  readonly blocking?: boolean;
}

/**
 * Options of `JS.show`: the target, a transition and the `display` to show with.
 * @example
 * JS.show({ to: '#menu', transition: ['ease-out duration-200', 'opacity-0', 'opacity-100'], display: 'flex' })
 */
export interface ShowOptions extends TimeOptions {
  readonly to?: JSTarget;
  readonly transition?: JSTransition;
  /** The `display` value to show with. Default `block`. */
  readonly display?: string;
}

/**
 * Options of `JS.hide`: the target and a transition.
 * @example
 * JS.hide({ to: '#menu', transition: 'fade-out', time: 300 })
 */
export interface HideOptions extends TimeOptions {
  readonly to?: JSTarget;
  readonly transition?: JSTransition;
}

/**
 * Options of `JS.toggle`: the target and the transitions in and out.
 * @example
 * JS.toggle({ to: '#menu', in: 'fade-in', out: 'fade-out' })
 */
export interface ToggleOptions extends TimeOptions {
  readonly to?: JSTarget;
  /** Transition when showing. */
  readonly in?: JSTransition;
  /** Transition when hiding. */
  readonly out?: JSTransition;
  readonly display?: string;
}

/**
 * Options of `JS.addClass`, `JS.removeClass` and `JS.toggleClass`.
 * @example
 * JS.addClass('active', { to: '#tab-2', transition: 'ease-in' })
 */
export interface ClassOptions extends TimeOptions {
  readonly to?: JSTarget;
  readonly transition?: JSTransition;
}

/**
 * Options of `JS.transition`: the target and its time.
 * @example
 * JS.transition('shake', { to: '#form', time: 500 })
 */
export interface TransitionOptions extends TimeOptions {
  readonly to?: JSTarget;
}

/**
 * The target of a command that takes nothing else (`focus`, `focusFirst`, `pushFocus`, `exec`…).
 * @example
 * JS.focus({ to: '#search' })
 */
export interface ToOptions {
  readonly to?: JSTarget;
}

/**
 * Options of `JS.dispatch`: the target, the event's `detail`, bubbling and blocking.
 * @example
 * JS.dispatch('copy', { to: '#code', detail: { format: 'text' } })
 */
export interface DispatchOptions {
  readonly to?: JSTarget;
  /** `event.detail` (the client adds `dispatcher`, the element that dispatched). */
  readonly detail?: Record<string, unknown>;
  /** Default true. */
  readonly bubbles?: boolean;
  /** Block the UI until a listener calls `event.detail.done()`. */
  readonly blocking?: boolean;
}

/**
 * Options of `JS.navigate` and `JS.patch`.
 * @example
 * JS.navigate('/posts/2', { replace: true })
 */
export interface NavigateOptions {
  /** Replace the current history entry instead of pushing one. Default false. */
  readonly replace?: boolean;
}

/**
 * One command as the client reads it: `[kind, args]`.
 *
 * @example
 * const [first]: readonly JSCommand[] = JS.show({ to: '#modal' }).ops
 * // first: ['show', { to: '#modal' }]
 */
export type JSCommand = readonly [string, Readonly<Record<string, unknown>>];

function fail(kind: string, detail: string): never {
  throw new InletError('INLET_ERR_JS_OPTION', `JS.${kind}: ${detail}`);
}

function classNames(kind: string, names: unknown): string[] {
  if (typeof names !== 'string') fail(kind, `class names must be a string, got ${typeof names}.`);
  return names.split(/\s+/).filter((n) => n.length > 0);
}

function target(kind: string, to: JSTarget | undefined): unknown {
  if (to === undefined) return undefined;
  if (typeof to === 'string') return to;
  if (typeof to === 'object' && to !== null) {
    const keys = Object.keys(to);
    const [scope] = keys;
    if (keys.length === 1 && typeof (to as Record<string, unknown>)[scope as string] === 'string') {
      if (scope === 'document') return (to as { document: string }).document;
      if (scope === 'closest' || scope === 'inner') return to;
    }
  }
  return fail(kind, '`to` must be a selector or { closest | inner | document: selector }.');
}

function transition(kind: string, t: JSTransition | undefined): string[][] | undefined {
  if (t === undefined) return undefined;
  if (typeof t === 'string') return [classNames(kind, t), [], []];
  if (Array.isArray(t) && t.length === 3) return t.map((part: unknown) => classNames(kind, part));
  return fail(kind, 'a transition is a string of classes or [during, start, end].');
}

function time(kind: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) fail(kind, '`time` must be a number of milliseconds >= 0.');
  return value;
}

function checkKeys(kind: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) fail(kind, `unknown option \`${key}\` (allowed: ${allowed.join(', ')}).`);
  }
}

/** Drops undefined values, as the client treats missing and null alike. */
function args(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = v;
  return out;
}

function attrPair(kind: string, attr: unknown): readonly [string, string] {
  if (!Array.isArray(attr) || attr.length !== 2 || typeof attr[0] !== 'string' || typeof attr[1] !== 'string') {
    fail(kind, 'expects [name, value] strings.');
  }
  return attr as unknown as readonly [string, string];
}

/**
 * A list of JS commands. Interpolate it into a binding; it renders as
 * escaped JSON.
 *
 * @example
 * html`<button phx-click="${JS.push('delete', { value: { id } }).hide({ to: `#row-${id}`, transition: 'fade-out' })}">Delete</button>`
 */
export class JS {
  readonly #ops: readonly JSCommand[];

  constructor(ops: readonly JSCommand[] = []) {
    this.#ops = Object.freeze([...ops]);
  }

  /** The commands, as the client reads them. */
  get ops(): readonly JSCommand[] {
    return this.#ops;
  }

  #with(kind: string, values: Record<string, unknown>): JS {
    return new JS([...this.#ops, [kind, Object.freeze(args(values))]]);
  }

  /** The JSON the client parses (what a binding's value must be). */
  toJSON(): readonly JSCommand[] {
    return this.#ops;
  }

  /** The commands as a JSON string (unescaped; templates escape it). */
  toString(): string {
    return JSON.stringify(this.#ops);
  }

  /** This list followed by `other`'s commands. */
  concat(other: JS): JS {
    if (!(other instanceof JS)) fail('concat', 'expects a JS command list.');
    return new JS([...this.#ops, ...other.ops]);
  }

  // ---- commands (instance: append; static: start a list) ----

  /** Sends `event` to the server, like a `phx-click="event"` would. */
  push(event: string, options: PushOptions = {}): JS {
    if (typeof event !== 'string' || event.length === 0) fail('push', 'the event name must be a non-empty string.');
    checkKeys('push', options, ['value', 'target', 'loading', 'pageLoading']);
    const { value, target: to, loading, pageLoading } = options;
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) fail('push', '`value` must be an object.');
    if (to !== undefined && typeof to !== 'number' && typeof to !== 'string') fail('push', '`target` must be a cid (myself) or a selector.');
    return this.#with('push', { event, value, target: to, loading, page_loading: pageLoading });
  }

  /** Dispatches a DOM event (a CustomEvent, or a MouseEvent for "click"). */
  dispatch(event: string, options: DispatchOptions = {}): JS {
    if (typeof event !== 'string' || event.length === 0) fail('dispatch', 'the event name must be a non-empty string.');
    checkKeys('dispatch', options, ['to', 'detail', 'bubbles', 'blocking']);
    const { detail, bubbles, blocking } = options;
    if (detail !== undefined && event === 'click') fail('dispatch', 'click events cannot carry a detail (the browser replaces it with a number).');
    if (detail !== undefined && (typeof detail !== 'object' || detail === null || Array.isArray(detail))) fail('dispatch', '`detail` must be an object.');
    if (blocking === true && detail && 'done' in detail) fail('dispatch', '`detail` must not have a `done` key with `blocking: true`.');
    if (bubbles !== undefined && typeof bubbles !== 'boolean') fail('dispatch', '`bubbles` must be a boolean.');
    return this.#with('dispatch', { event, to: target('dispatch', options.to), detail, bubbles, blocking: blocking === true ? true : undefined });
  }

  /** Shows or hides elements, with optional in and out transitions. */
  toggle(options: ToggleOptions = {}): JS {
    checkKeys('toggle', options, ['to', 'in', 'out', 'display', 'time', 'blocking']);
    return this.#with('toggle', {
      to: target('toggle', options.to),
      display: options.display,
      ins: transition('toggle', options.in),
      outs: transition('toggle', options.out),
      time: time('toggle', options.time),
      blocking: options.blocking,
    });
  }

  /** Shows elements (sets `display`), with an optional transition. */
  show(options: ShowOptions = {}): JS {
    checkKeys('show', options, ['to', 'transition', 'display', 'time', 'blocking']);
    return this.#with('show', {
      to: target('show', options.to),
      display: options.display,
      transition: transition('show', options.transition),
      time: time('show', options.time),
      blocking: options.blocking,
    });
  }

  /** Hides elements (`display: none`), with an optional transition. */
  hide(options: HideOptions = {}): JS {
    checkKeys('hide', options, ['to', 'transition', 'time', 'blocking']);
    return this.#with('hide', {
      to: target('hide', options.to),
      transition: transition('hide', options.transition),
      time: time('hide', options.time),
      blocking: options.blocking,
    });
  }

  #classOp(kind: string, op: string, names: string, options: ClassOptions): JS {
    checkKeys(kind, options, ['to', 'transition', 'time', 'blocking']);
    return this.#with(op, {
      to: target(kind, options.to),
      names: classNames(kind, names),
      transition: transition(kind, options.transition),
      time: time(kind, options.time),
      blocking: options.blocking,
    });
  }

  /** Adds classes (space separated). Kept across patches of the element. */
  addClass(names: string, options: ClassOptions = {}): JS {
    return this.#classOp('addClass', 'add_class', names, options);
  }

  /** Removes classes (space separated). */
  removeClass(names: string, options: ClassOptions = {}): JS {
    return this.#classOp('removeClass', 'remove_class', names, options);
  }

  /** Toggles classes (space separated). */
  toggleClass(names: string, options: ClassOptions = {}): JS {
    return this.#classOp('toggleClass', 'toggle_class', names, options);
  }

  /** Applies transition classes for `time` ms, then removes them. */
  transition(classes: JSTransition, options: TransitionOptions = {}): JS {
    checkKeys('transition', options, ['to', 'time', 'blocking']);
    return this.#with('transition', {
      time: time('transition', options.time),
      to: target('transition', options.to),
      transition: transition('transition', classes),
      blocking: options.blocking,
    });
  }

  /** Sets an attribute: `setAttribute(['aria-expanded', 'true'])`. */
  setAttribute(attr: readonly [string, string], options: ToOptions = {}): JS {
    checkKeys('setAttribute', options, ['to']);
    return this.#with('set_attr', { to: target('setAttribute', options.to), attr: [...attrPair('setAttribute', attr)] });
  }

  /** Removes an attribute. */
  removeAttribute(attr: string, options: ToOptions = {}): JS {
    if (typeof attr !== 'string') fail('removeAttribute', 'the attribute name must be a string.');
    checkKeys('removeAttribute', options, ['to']);
    return this.#with('remove_attr', { to: target('removeAttribute', options.to), attr });
  }

  /**
   * Toggles an attribute: `[name, value]` sets and removes it, `[name, a, b]`
   * switches between two values.
   */
  toggleAttribute(attr: readonly [string, string] | readonly [string, string, string], options: ToOptions = {}): JS {
    if (!Array.isArray(attr) || (attr.length !== 2 && attr.length !== 3) || attr.some((a) => typeof a !== 'string')) {
      fail('toggleAttribute', 'expects [name, value] or [name, value1, value2] strings.');
    }
    checkKeys('toggleAttribute', options, ['to']);
    return this.#with('toggle_attr', { to: target('toggleAttribute', options.to), attr: [...(attr as readonly string[])] });
  }

  /** Keeps client-side changes of these attributes across patches (`open` of a `<details>`, …). */
  ignoreAttributes(attrs: string | readonly string[], options: ToOptions = {}): JS {
    const list: readonly unknown[] = typeof attrs === 'string' ? [attrs] : attrs;
    if (!Array.isArray(list) || list.some((a) => typeof a !== 'string')) fail('ignoreAttributes', 'expects a name or a list of names.');
    checkKeys('ignoreAttributes', options, ['to']);
    return this.#with('ignore_attrs', { to: target('ignoreAttributes', options.to), attrs: list.map((a) => String(a)) });
  }

  /** Focuses an element. */
  focus(options: ToOptions = {}): JS {
    checkKeys('focus', options, ['to']);
    return this.#with('focus', { to: target('focus', options.to) });
  }

  /** Focuses the first focusable element inside. */
  focusFirst(options: ToOptions = {}): JS {
    checkKeys('focusFirst', options, ['to']);
    return this.#with('focus_first', { to: target('focusFirst', options.to) });
  }

  /** Remembers the focused element (or `to`) for a later {@link popFocus}. */
  pushFocus(options: ToOptions = {}): JS {
    checkKeys('pushFocus', options, ['to']);
    return this.#with('push_focus', { to: target('pushFocus', options.to) });
  }

  /** Focuses the element last remembered by {@link pushFocus}. */
  popFocus(): JS {
    return this.#with('pop_focus', {});
  }

  /** Navigates to another live view (like `pushNavigate`). */
  navigate(href: string, options: NavigateOptions = {}): JS {
    if (typeof href !== 'string' || href.length === 0) fail('navigate', 'href must be a non-empty string.');
    checkKeys('navigate', options, ['replace']);
    return this.#with('navigate', { href, replace: options.replace === true });
  }

  /** Patches the current view's URL (like `pushPatch`). */
  patch(href: string, options: NavigateOptions = {}): JS {
    if (typeof href !== 'string' || href.length === 0) fail('patch', 'href must be a non-empty string.');
    checkKeys('patch', options, ['replace']);
    return this.#with('patch', { href, replace: options.replace === true });
  }

  /** Runs the commands stored in attribute `attr` (of the element, or of `to`). */
  exec(attr: string, options: ToOptions = {}): JS {
    if (typeof attr !== 'string' || attr.length === 0) fail('exec', 'the attribute name must be a non-empty string.');
    checkKeys('exec', options, ['to']);
    return this.#with('exec', { attr, to: target('exec', options.to) });
  }

  static push(event: string, options?: PushOptions): JS {
    return new JS().push(event, options);
  }
  static dispatch(event: string, options?: DispatchOptions): JS {
    return new JS().dispatch(event, options);
  }
  static toggle(options?: ToggleOptions): JS {
    return new JS().toggle(options);
  }
  static show(options?: ShowOptions): JS {
    return new JS().show(options);
  }
  static hide(options?: HideOptions): JS {
    return new JS().hide(options);
  }
  static addClass(names: string, options?: ClassOptions): JS {
    return new JS().addClass(names, options);
  }
  static removeClass(names: string, options?: ClassOptions): JS {
    return new JS().removeClass(names, options);
  }
  static toggleClass(names: string, options?: ClassOptions): JS {
    return new JS().toggleClass(names, options);
  }
  static transition(classes: JSTransition, options?: TransitionOptions): JS {
    return new JS().transition(classes, options);
  }
  static setAttribute(attr: readonly [string, string], options?: ToOptions): JS {
    return new JS().setAttribute(attr, options);
  }
  static removeAttribute(attr: string, options?: ToOptions): JS {
    return new JS().removeAttribute(attr, options);
  }
  static toggleAttribute(attr: readonly [string, string] | readonly [string, string, string], options?: ToOptions): JS {
    return new JS().toggleAttribute(attr, options);
  }
  static ignoreAttributes(attrs: string | readonly string[], options?: ToOptions): JS {
    return new JS().ignoreAttributes(attrs, options);
  }
  static focus(options?: ToOptions): JS {
    return new JS().focus(options);
  }
  static focusFirst(options?: ToOptions): JS {
    return new JS().focusFirst(options);
  }
  static pushFocus(options?: ToOptions): JS {
    return new JS().pushFocus(options);
  }
  static popFocus(): JS {
    return new JS().popFocus();
  }
  static navigate(href: string, options?: NavigateOptions): JS {
    return new JS().navigate(href, options);
  }
  static patch(href: string, options?: NavigateOptions): JS {
    return new JS().patch(href, options);
  }
  static exec(attr: string, options?: ToOptions): JS {
    return new JS().exec(attr, options);
  }
  /** `a` followed by `b`. */
  static concat(a: JS, b: JS): JS {
    return a.concat(b);
  }
}
