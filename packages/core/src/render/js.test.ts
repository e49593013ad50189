import { describe, expect, it } from 'vitest';
import { InletError } from '../errors.js';
import { JS } from './js.js';
import { html } from './template.js';
import { renderToString } from './tree.js';

describe('JS commands', () => {
  it('builds the command JSON the client reads, for every command', () => {
    const js = JS.push('save', { value: { id: 1 }, target: 3, loading: '#form', pageLoading: true })
      .dispatch('app:copied', { to: '#out', detail: { text: 'x' }, bubbles: false })
      .toggle({ to: '#menu', in: 'fade-in', out: ['ease-out', 'opacity-100', 'opacity-0'], display: 'flex', time: 50 })
      .show({ to: { closest: '.card' }, transition: 'fade-in', display: 'grid', time: 100, blocking: false })
      .hide({ to: { document: '#modal' } })
      .addClass('a  b', { to: { inner: 'li' }, transition: 'ring' })
      .removeClass('a')
      .toggleClass('open', { time: 10 })
      .transition('shake', { to: '#x', time: 300 })
      .setAttribute(['aria-expanded', 'true'], { to: '#menu' })
      .removeAttribute('open')
      .toggleAttribute(['aria-pressed', 'true', 'false'])
      .ignoreAttributes(['open'])
      .focus({ to: '#name' })
      .focusFirst({ to: '#dialog' })
      .pushFocus()
      .popFocus()
      .navigate('/other', { replace: true })
      .patch('/same?tab=2')
      .exec('phx-remove', { to: '#modal' });
    expect(js.ops).toEqual([
      ['push', { event: 'save', value: { id: 1 }, target: 3, loading: '#form', page_loading: true }],
      ['dispatch', { event: 'app:copied', to: '#out', detail: { text: 'x' }, bubbles: false }],
      ['toggle', { to: '#menu', display: 'flex', ins: [['fade-in'], [], []], outs: [['ease-out'], ['opacity-100'], ['opacity-0']], time: 50 }],
      ['show', { to: { closest: '.card' }, display: 'grid', transition: [['fade-in'], [], []], time: 100, blocking: false }],
      ['hide', { to: '#modal' }],
      ['add_class', { to: { inner: 'li' }, names: ['a', 'b'], transition: [['ring'], [], []] }],
      ['remove_class', { names: ['a'] }],
      ['toggle_class', { names: ['open'], time: 10 }],
      ['transition', { time: 300, to: '#x', transition: [['shake'], [], []] }],
      ['set_attr', { to: '#menu', attr: ['aria-expanded', 'true'] }],
      ['remove_attr', { attr: 'open' }],
      ['toggle_attr', { attr: ['aria-pressed', 'true', 'false'] }],
      ['ignore_attrs', { attrs: ['open'] }],
      ['focus', { to: '#name' }],
      ['focus_first', { to: '#dialog' }],
      ['push_focus', {}],
      ['pop_focus', {}],
      ['navigate', { href: '/other', replace: true }],
      ['patch', { href: '/same?tab=2', replace: false }],
      ['exec', { attr: 'phx-remove', to: '#modal' }],
    ]);
  });

  it('is immutable: each call returns a new list; concat joins two', () => {
    const base = JS.hide({ to: '#a' });
    const more = base.show({ to: '#b' });
    expect(base.ops).toHaveLength(1);
    expect(more.ops).toHaveLength(2);
    expect(JS.concat(base, JS.focus()).ops.map(([k]) => k)).toEqual(['hide', 'focus']);
  });

  it('renders into attributes as escaped JSON', () => {
    const out = renderToString(html`<button phx-click="${JS.push('x', { value: { q: '"<&>' } })}">x</button>`);
    expect(out).toBe('<button phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;x&quot;,&quot;value&quot;:{&quot;q&quot;:&quot;\\&quot;&lt;&amp;&gt;&quot;}}]]">x</button>');
    expect(JSON.stringify({ cmd: JS.hide() })).toBe('{"cmd":[["hide",{}]]}');
  });

  it('rejects what the client cannot run', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof InletError ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => JS.push(''))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.push('x', { value: 3 as never }))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.push('x', { bogus: 1 } as never))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.dispatch('click', { detail: {} }))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.dispatch('x', { blocking: true, detail: { done: 1 } }))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.show({ to: { parent: '#x' } as never }))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.show({ transition: ['a', 'b'] as never }))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.hide({ time: -1 }))).toBe('INLET_ERR_JS_OPTION');
    expect(code(() => JS.setAttribute(['only-name'] as never))).toBe('INLET_ERR_JS_OPTION');
  });
});
