/**
 * Live navigation links, as Phoenix's `<.link navigate>` and `<.link patch>`
 * render them: the official client reads `data-phx-link` (`redirect` for
 * navigate, `patch` for patch) and `data-phx-link-state` (`push` or
 * `replace`) and moves without a page load. Pure.
 */
import { InletOptionError } from '../options.js';
import { attrs as renderAttrs, type AttrValue } from './attrs.js';
import { escapeHtml } from './escape.js';
import { html, safe, type Template } from './template.js';

/** Attribute values a link accepts (as {@link renderAttrs}): `false`, `null` and `undefined` leave the attribute out. */
export type { AttrValue };

/**
 * Where a link goes: exactly one of `navigate`, `patch` or `href`.
 *
 * @example
 * const next: LinkOptions = { patch: `/posts?page=${page + 1}`, replace: true, attrs: { class: 'next', rel: 'next' } }
 * link(next, 'Next page')
 */
export interface LinkOptions {
  /** Another live view, over the same socket (`pushNavigate`'s twin). */
  readonly navigate?: string;
  /** The same view with a new URL: `handleParams` runs, no remount (`pushPatch`'s twin). */
  readonly patch?: string;
  /** A plain link: a full page load. */
  readonly href?: string;
  /** Replace the browser history entry instead of pushing one. Default false. */
  readonly replace?: boolean;
  /** More attributes (`class`, `id`, `aria-current`…). */
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

const ATTR_NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;
const RESERVED = new Set(['href', 'data-phx-link', 'data-phx-link-state']);

/**
 * An `<a>` for live navigation. `content` is escaped like any interpolation
 * (pass a template for markup).
 *
 * @example
 * link({ navigate: '/users' }, 'Users')
 * // <a href="/users" data-phx-link="redirect" data-phx-link-state="push">Users</a>
 * link({ patch: '/users?page=2', replace: true, attrs: { class: 'next' } }, html`Next &rarr;`)
 */
export function link(options: LinkOptions, content: unknown): Template {
  const targets = (['navigate', 'patch', 'href'] as const).filter((k) => options[k] !== undefined);
  if (targets.length !== 1) throw new InletOptionError('link', `needs exactly one of navigate, patch or href (got ${targets.length ? targets.join(', ') : 'none'}).`);
  const kind = targets[0] as 'navigate' | 'patch' | 'href';
  const to = options[kind];
  if (typeof to !== 'string') throw new InletOptionError(`link.${kind}`, 'must be a string.');
  let attrs = ` href="${escapeHtml(to)}"`;
  if (kind !== 'href') attrs += ` data-phx-link="${kind === 'navigate' ? 'redirect' : 'patch'}" data-phx-link-state="${options.replace ? 'replace' : 'push'}"`;
  for (const name of Object.keys(options.attrs ?? {})) {
    if (!ATTR_NAME.test(name) || RESERVED.has(name.toLowerCase())) throw new InletOptionError(`link.attrs.${name}`, 'is not an attribute name a link may set.');
  }
  attrs += renderAttrs(options.attrs ?? {}).value;
  return html`<a${safe(attrs)}>${content}</a>`;
}

/**
 * `link({ navigate: to, … }, content)`.
 *
 * @example
 * navigateLink('/settings', 'Settings')
 */
export function navigateLink(to: string, content: unknown, options: Omit<LinkOptions, 'navigate' | 'patch' | 'href'> = {}): Template {
  return link({ ...options, navigate: to }, content);
}

/**
 * `link({ patch: to, … }, content)`.
 *
 * @example
 * patchLink('?tab=b', 'Tab B', { replace: true })
 */
export function patchLink(to: string, content: unknown, options: Omit<LinkOptions, 'navigate' | 'patch' | 'href'> = {}): Template {
  return link({ ...options, patch: to }, content);
}
