import { describe, expect, it } from 'vitest';
import { InletOptionError } from '../options.js';
import { link, navigateLink, patchLink } from './link.js';
import { html } from './template.js';
import { renderToString } from './tree.js';

describe('live navigation links', () => {
  it('renders what <.link navigate> and <.link patch> render', () => {
    expect(renderToString(link({ navigate: '/users' }, 'Users'))).toBe('<a href="/users" data-phx-link="redirect" data-phx-link-state="push">Users</a>');
    expect(renderToString(patchLink('/users?page=2', 'Next', { replace: true }))).toBe(
      '<a href="/users?page=2" data-phx-link="patch" data-phx-link-state="replace">Next</a>',
    );
    expect(renderToString(link({ href: '/logout' }, 'Log out'))).toBe('<a href="/logout">Log out</a>');
  });

  it('escapes the target, attributes and content, and renders templates as markup', () => {
    expect(renderToString(navigateLink('/a?x="1"&y=<b>', '<i>', { attrs: { class: 'x"y', hidden: true, title: null } }))).toBe(
      '<a href="/a?x=&quot;1&quot;&amp;y=&lt;b&gt;" data-phx-link="redirect" data-phx-link-state="push" class="x&quot;y" hidden>&lt;i&gt;</a>',
    );
    expect(renderToString(link({ navigate: '/' }, html`<b>Home</b>`))).toContain('><b>Home</b></a>');
  });

  it('refuses two targets, none, and attributes it must own', () => {
    expect(() => link({ navigate: '/a', patch: '/b' }, 'x')).toThrow(InletOptionError);
    expect(() => link({}, 'x')).toThrow(/exactly one/);
    expect(() => link({ navigate: '/a', attrs: { href: '/evil' } }, 'x')).toThrow(/link.attrs.href/);
    expect(() => link({ navigate: '/a', attrs: { 'on click': 'x' } }, 'x')).toThrow(InletOptionError);
  });
});
