import { describe, expect, it } from 'vitest';
import { escapeHtml } from './escape.js';
import { html, repeat, safe } from './template.js';
import { renderTemplate, renderToString, treeToHtml } from './tree.js';
import { diff, toWire } from './wire.js';

const row = (r: { id: number; v: number }) => html`<li id="r${r.id}">${r.v}</li>`;
const list = (rows: { id: number; v: number }[]) => html`<ul>${rows.map(row)}</ul>`;
const keyed = (rows: { id: number; v: number }[]) => html`<ul>${repeat(rows, (r) => r.id, row)}</ul>`;
const greet = (name: string, n: number) => html`<p class="${n > 1 ? 'many' : 'one'}">Hi ${name}: ${n}</p>`;

describe('escaping', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('escapes interpolated text and attributes, and leaves safe() alone', () => {
    const evil = '"><script>alert(1)</script>';
    expect(renderToString(html`<a title="${evil}">${evil}</a>${safe('<b>ok</b>')}`)).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</a><b>ok</b>',
    );
  });

  it('renders null, undefined and false as nothing, numbers as text', () => {
    expect(renderToString(html`[${null}${undefined}${false}${0}${1.5}${true}]`)).toBe('[01.5true]');
  });

  it('refuses plain objects and promises with a clear error', () => {
    expect(() => renderToString(html`${{ a: 1 }}`)).toThrow(/INLET_ERR|cannot be rendered/);
    expect(() => renderToString(html`${Promise.resolve(1)}`)).toThrow(/cannot be rendered/);
  });
});

describe('full render (wire)', () => {
  it('splits statics and dynamics by the template call site', () => {
    expect(toWire(renderTemplate(greet('Ada', 2)))).toEqual({ s: ['<p class="', '">Hi ', ': ', '</p>'], 0: 'many', 1: 'Ada', 2: '2' });
  });

  it('renders arrays of one template as a comprehension', () => {
    expect(toWire(renderTemplate(list([{ id: 1, v: 10 }, { id: 2, v: 20 }])))).toEqual({
      s: ['<ul>', '</ul>'],
      0: { s: ['<li id="r', '">', '</li>'], k: { 0: { 0: '1', 1: '10' }, 1: { 0: '2', 1: '20' }, kc: 2 } },
    });
  });

  it('puts nested statics inside a comprehension into its "p" table', () => {
    const t = (xs: number[]) => html`<div>${xs.map((x) => html`<i>${x % 2 ? html`<b>${x}</b>` : html`<s>${x}</s>`}</i>`)}</div>`;
    expect(toWire(renderTemplate(t([1, 2, 3])))).toEqual({
      s: ['<div>', '</div>'],
      0: {
        s: ['<i>', '</i>'],
        k: { 0: { 0: { s: 0, 0: '1' } }, 1: { 0: { s: 1, 0: '2' } }, 2: { 0: { s: 0, 0: '3' } }, kc: 3 },
        p: { 0: ['<b>', '</b>'], 1: ['<s>', '</s>'] },
      },
    });
  });

  it('wraps lists whose items differ in template', () => {
    const mixed = html`<p>${['a', html`<b>${'x'}</b>`]}</p>`;
    expect(renderToString(mixed)).toBe('<p>a<b>x</b></p>');
    expect(toWire(renderTemplate(mixed))).toEqual({
      s: ['<p>', '</p>'],
      0: { s: ['', ''], k: { 0: { 0: 'a' }, 1: { 0: { s: 0, 0: 'x' } }, kc: 2 }, p: { 0: ['<b>', '</b>'] } },
    });
  });
});

describe('diff', () => {
  it('sends only changed dynamics', () => {
    expect(diff(renderTemplate(greet('Ada', 2)), renderTemplate(greet('Ada', 3)))).toEqual({ 2: '3' });
    expect(diff(renderTemplate(greet('Ada', 2)), renderTemplate(greet('Ada', 2)))).toBeUndefined();
  });

  it('sends a whole node with statics when the template changes', () => {
    const a = (on: boolean) => html`<div>${on ? html`<b>${1}</b>` : html`<i>${1}</i>`}</div>`;
    expect(diff(renderTemplate(a(true)), renderTemplate(a(false)))).toEqual({ 0: { s: ['<i>', '</i>'], 0: '1' } });
  });

  it('diffs unkeyed comprehension entries by index, and truncates', () => {
    const before = renderTemplate(list([{ id: 1, v: 10 }, { id: 2, v: 20 }, { id: 3, v: 30 }]));
    expect(diff(before, renderTemplate(list([{ id: 1, v: 10 }, { id: 2, v: 21 }, { id: 3, v: 30 }])))).toEqual({ 0: { k: { 1: { 1: '21' }, kc: 3 } } });
    expect(diff(before, renderTemplate(list([{ id: 1, v: 10 }])))).toEqual({ 0: { k: { kc: 1 } } });
  });

  it('diffs keyed comprehensions with moves', () => {
    const rows = [{ id: 1, v: 10 }, { id: 2, v: 20 }, { id: 3, v: 30 }];
    const before = renderTemplate(keyed(rows));
    expect(diff(before, renderTemplate(keyed([{ id: 9, v: 90 }, ...rows])))).toEqual({
      0: { k: { 0: { 0: '9', 1: '90' }, 1: 0, 2: 1, 3: 2, kc: 4, km: true } },
    });
    expect(diff(before, renderTemplate(keyed([rows[2]!, rows[1]!, { ...rows[0]!, v: 11 }])))).toEqual({
      0: { k: { 0: 2, 2: [0, { 1: '11' }], kc: 3, km: true } },
    });
    expect(diff(before, renderTemplate(keyed(rows.slice(1))))).toEqual({ 0: { k: { 0: 1, 1: 2, kc: 2, km: true } } });
  });

  it('round-trips: HTML of the tree equals concatenated statics and dynamics', () => {
    const tree = renderTemplate(keyed([{ id: 1, v: 10 }, { id: 2, v: 20 }]));
    expect(treeToHtml(tree)).toBe('<ul><li id="r1">10</li><li id="r2">20</li></ul>');
  });
});
