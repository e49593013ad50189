import { describe, expect, it } from 'vitest';
import { focusWrap, formTag, portal } from './components.js';
import { html } from './template.js';
import { renderToString } from './tree.js';

describe('portal', () => {
  it('wraps the content in a template with one root element the client can teleport', () => {
    expect(renderToString(portal({ id: 'modal', target: 'body', class: 'z' }, html`<p>hi</p>`))).toBe(
      '<template id="modal" data-phx-portal="body"><div id="_lv_portal_wrap_modal" class="z"><p>hi</p></div></template>',
    );
    expect(renderToString(portal({ id: 'row', target: '#t', container: 'tr' }, 'x'))).toBe(
      '<template id="row" data-phx-portal="#t"><tr id="_lv_portal_wrap_row">x</tr></template>',
    );
  });

  it('refuses a container that is not a tag name', () => {
    expect(() => portal({ id: 'a', target: 'body', container: 'div onclick=x' }, '')).toThrow(/not a tag name/);
  });
});

describe('focusWrap', () => {
  it('puts focus sentinels around the content', () => {
    expect(renderToString(focusWrap({ id: 'menu', class: 'm' }, html`<button>A</button>`))).toBe(
      '<div id="menu" phx-hook="Phoenix.FocusWrap" class="m"><div id="menu-start" tabindex="0" aria-hidden="true"></div><button>A</button><div id="menu-end" tabindex="0" aria-hidden="true"></div></div>',
    );
  });
});

describe('formTag', () => {
  it('without an action: only the given attributes', () => {
    expect(renderToString(formTag({ id: 'f', 'phx-change': 'v', 'phx-trigger-action': false }, 'x'))).toBe('<form id="f" phx-change="v">x</form>');
  });

  it('with an action: method post and the CSRF token', () => {
    expect(renderToString(formTag({ action: '/s', csrfToken: 'tok', 'phx-trigger-action': true }, 'x'))).toBe(
      '<form action="/s" method="post" phx-trigger-action><input name="_csrf_token" type="hidden" hidden value="tok">x</form>',
    );
  });

  it('other methods travel as _method; get sends no token', () => {
    expect(renderToString(formTag({ action: '/s', method: 'delete', csrfToken: 't' }, ''))).toContain('<input name="_method" type="hidden" hidden value="delete">');
    expect(renderToString(formTag({ action: '/s', method: 'get', csrfToken: 't', multipart: true }, ''))).toBe('<form action="/s" method="get" enctype="multipart/form-data"></form>');
  });
});
