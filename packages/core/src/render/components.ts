/**
 * Function components Phoenix ships in `Phoenix.Component`, as template
 * helpers: `portal`, `focusWrap` and `formTag` (Phoenix's `<.form>`). Each
 * returns a template, so what it wraps is diffed like any other part.
 */
import { InletError } from '../errors.js';
import { attrs, type AttrValue } from './attrs.js';
import { html, safe, type Template } from './template.js';

const TAG_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Options of {@link portal}.
 *
 * @example
 * const modal: PortalOptions = { id: 'confirm', target: '#modals', class: 'modal-root', container: 'section' }
 * html`${portal(modal, html`<div id="confirm-dialog">Sure?</div>`)}`
 */
export interface PortalOptions {
  /** The `<template>`'s id, unique on the page. */
  readonly id: string;
  /** A CSS selector of the element the content is moved into (`body`, `#modals`). */
  readonly target: string;
  /** Class of the wrapper element. */
  readonly class?: string;
  /** Tag of the wrapper element. Default `div`. */
  readonly container?: string;
}

/**
 * Renders `content` somewhere else in the page (Phoenix's `<.portal>`): the
 * client moves it into the element `target` selects, outside the view's
 * container, and keeps patching it there. Events from it still reach this view
 * (or the component around the portal).
 *
 * @example
 * html`${portal({ id: 'confirm', target: 'body' }, html`<div id="confirm-modal" class="modal">…</div>`)}`
 */
export function portal(options: PortalOptions, content: unknown): Template {
  const tag = options.container ?? 'div';
  if (!TAG_NAME.test(tag)) throw new InletError('INLET_ERR_RENDER_VALUE', `portal container "${tag.slice(0, 40)}" is not a tag name.`);
  // The client needs one root element with an id inside the template: the wrapper.
  return html`<template id="${options.id}" data-phx-portal="${options.target}"><${safe(tag)} id="_lv_portal_wrap_${options.id}"${attrs({ class: options.class })}>${content}</${safe(tag)}></template>`;
}

/**
 * Keeps keyboard focus inside `content` while it has focus, for modals and
 * menus (Phoenix's `<.focus_wrap>`): tabbing past the last focusable element
 * returns to the first and the other way round.
 *
 * @example
 * html`${focusWrap({ id: 'menu', class: 'menu' }, html`<button>One</button><button>Two</button>`)}`
 */
export function focusWrap(options: { readonly id: string } & Readonly<Record<string, AttrValue>>, content: unknown): Template {
  const { id, ...rest } = options;
  return html`<div id="${id}" phx-hook="Phoenix.FocusWrap"${attrs(rest)}><div id="${id}-start" tabindex="0" aria-hidden="true"></div>${content}<div id="${id}-end" tabindex="0" aria-hidden="true"></div></div>`;
}

/**
 * Options of {@link formTag}: the form's own attributes plus these.
 *
 * @example
 * const options: FormTagOptions = { id: 'upload', action: '/files', method: 'put', csrfToken: meta.csrfToken, multipart: true }
 * formTag(options, html`<input type="file" name="file"><button>Send</button>`)
 */
export type FormTagOptions = Readonly<Record<string, AttrValue>> & {
  /** Where the browser submits the form without LiveView (or with `phx-trigger-action`). */
  readonly action?: string;
  /** Default `post` when an action is given. Other methods than get and post travel as a hidden `_method`. */
  readonly method?: string;
  /** The CSRF token to send with an action (`meta.csrfToken` in a view's render); `false` sends none. */
  readonly csrfToken?: string | false;
  /** Sets `enctype="multipart/form-data"`. */
  readonly multipart?: boolean;
};

/**
 * A `<form>` (Phoenix's `<.form>`): with an `action`, it gets a method and a
 * hidden `_csrf_token` input, so it can also be submitted over plain HTTP,
 * for example after `phx-trigger-action`.
 *
 * @example
 * formTag({ id: 'login', action: '/session', csrfToken: meta.csrfToken, 'phx-submit': 'check', 'phx-trigger-action': trigger }, html`…`)
 */
export function formTag(options: FormTagOptions, content: unknown): Template {
  const { action, method, csrfToken, multipart, ...rest } = options;
  if (action === undefined) return html`<form${attrs({ ...rest, ...(multipart ? { enctype: 'multipart/form-data' } : {}) })}>${content}</form>`;
  const verb = (method ?? 'post').toLowerCase();
  const formMethod = verb === 'get' ? 'get' : 'post';
  const hiddenMethod = verb !== 'get' && verb !== 'post' ? html`<input name="_method" type="hidden" hidden value="${verb}">` : '';
  const csrf = csrfToken && formMethod === 'post' ? html`<input name="_csrf_token" type="hidden" hidden value="${csrfToken}">` : '';
  return html`<form${attrs({ action, method: formMethod, ...rest, ...(multipart ? { enctype: 'multipart/form-data' } : {}) })}>${hiddenMethod}${csrf}${content}</form>`;
}
