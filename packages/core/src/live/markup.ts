/**
 * The container elements of live views (protocol.md §2.1) and the tokens
 * signed into them. Root views, child views and sticky views differ only in
 * which `data-phx-*` attributes they carry and what their tokens hold.
 */
import { escapeHtml } from '../render/escape.js';
import type { Container } from './router.js';

/** Token purposes (the signer's salt). */
export const TOKEN_PURPOSE = {
  SESSION: 'session',
  STATIC: 'static',
  FLASH: 'flash',
  RELOAD: 'reload',
} as const;

/** How long a flash carried across a redirect stays readable (Phoenix: 60 s). */
export const FLASH_TTL_MS = 60_000;

/** What a view's `data-phx-session` token holds. */
export interface SessionToken {
  /** The view's DOM id (its topic is `lv:<id>`). */
  readonly id: string;
  /** The session handed to `mount`. */
  readonly s: Record<string, unknown>;
  /** The view's registry key (see `LiveApp.viewKey`). */
  readonly v?: string;
  /** Root views: the live session the page was rendered in. */
  readonly ls?: string;
  /** Child views: the parent view's id. */
  readonly p?: string;
  /** Sticky views. */
  readonly st?: 1;
  /** Child views: the parent crashes when the child crashes. */
  readonly lk?: 1;
  /** Child and sticky views: the URL of the page that rendered them. */
  readonly u?: string;
}

/** What a view's `data-phx-static` token holds (only in the HTTP render). */
export interface StaticToken {
  readonly id: string;
  /** Flash the HTTP render showed, for the first connected mount. */
  readonly f?: Record<string, string>;
}

/** The attributes a container element carries, in order. */
export type ContainerAttrs = readonly (readonly [name: string, value: string | true])[];

/**
 * The opening and closing tags of a live container: `id` and the given
 * `data-phx-*` attributes first, then the container's own attributes.
 *
 * @example
 * containerTags(['main', { class: 'page' }], [['id', 'phx-1'], ['data-phx-main', true]])
 * // { open: '<main id="phx-1" data-phx-main class="page">', close: '</main>' }
 */
export function containerTags(container: Container | undefined, attrs: ContainerAttrs): { open: string; close: string } {
  const tag = container?.[0] ?? 'div';
  let open = `<${tag}`;
  for (const [name, value] of attrs) open += value === true ? ` ${name}` : ` ${name}="${escapeHtml(value)}"`;
  for (const [name, value] of Object.entries(container?.[1] ?? {})) {
    if (value === false || attrs.some(([n]) => n === name)) continue;
    open += value === true ? ` ${escapeHtml(name)}` : ` ${escapeHtml(name)}="${escapeHtml(value)}"`;
  }
  return { open: `${open}>`, close: `</${tag}>` };
}

/** A container as the join reply's `container` key carries it: `[tag, {attr: value}]` (bare attributes as ""). */
export function containerReply(container: Container): [string, Record<string, string>] {
  const attrs: Record<string, string> = {};
  for (const [name, value] of Object.entries(container[1] ?? {})) if (value !== false) attrs[name] = value === true ? '' : value;
  return [container[0], attrs];
}
