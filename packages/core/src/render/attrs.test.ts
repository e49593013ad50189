import { describe, expect, it } from 'vitest';
import { attrs, optionsForSelect } from './attrs.js';
import { JS } from './js.js';
import { html } from './template.js';
import { renderToString } from './tree.js';

describe('attrs', () => {
  it.each([
    [{ readonly: true }, ' readonly'],
    [{ disabled: false, id: null, form: undefined }, ''],
    [{ value: '' }, ' value=""'],
    [{ 'phx-target': 3 }, ' phx-target="3"'],
    [{ class: ['a', false, null, 'b', ''] }, ' class="a b"'],
    [{ title: '"<x>"' }, ' title="&quot;&lt;x&gt;&quot;"'],
    [{ 'phx-click': JS.push('go') }, ` phx-click="${'[["push",{"event":"go"}]]'.replaceAll('"', '&quot;')}"`],
  ])('%j', (values, expected) => expect(attrs(values).value).toBe(expected));

  it('refuses a name that could break out of the tag', () => {
    expect(() => attrs({ 'a"><script': 'x' })).toThrow(/not an attribute name/);
  });

  it('renders inside a template unescaped', () => {
    expect(renderToString(html`<input${attrs({ name: 'b', readonly: true })}>`)).toBe('<input name="b" readonly>');
  });
});

describe('optionsForSelect', () => {
  it('marks the selected value, compared as a string', () => {
    expect(optionsForSelect([1, 2, 3], 2).value).toBe('<option value="1">1</option><option value="2" selected>2</option><option value="3">3</option>');
  });

  it('takes label/value pairs, option objects, groups and several selected values', () => {
    const out = optionsForSelect(
      [['Connecting', 'connecting'], { label: 'Off', value: 'off', disabled: true }, { label: 'G', options: ['x', 'y'] }],
      ['connecting', 'y'],
    ).value;
    expect(out).toBe(
      '<option value="connecting" selected>Connecting</option><option value="off" disabled>Off</option><optgroup label="G"><option value="x">x</option><option value="y" selected>y</option></optgroup>',
    );
  });

  it('escapes labels and values', () => {
    expect(optionsForSelect([['<b>', '"v"']]).value).toBe('<option value="&quot;v&quot;">&lt;b&gt;</option>');
  });
});
