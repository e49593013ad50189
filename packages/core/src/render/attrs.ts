/**
 * Attributes the way HEEx writes them, for templates that build an element's
 * attributes from data: `true` gives a bare attribute, `false`, `null` and
 * `undefined` leave it out, an empty string gives `name=""`, a list (as for
 * `class`) is joined with spaces after dropping falsy entries, and JS commands
 * are written as their escaped JSON.
 */
import { InletError } from '../errors.js';
import { escapeHtml } from './escape.js';
import { JS } from './js.js';
import { SafeHtml } from './template.js';

/**
 * One attribute's value; see {@link attrs}.
 *
 * @example
 * const values: Record<string, AttrValue> = { type: 'checkbox', checked: done, disabled: false, class: ['item', done && 'done'] }
 * html`<input${attrs(values)}>`
 */
export type AttrValue = string | number | boolean | null | undefined | JS | readonly (string | number | boolean | null | undefined)[];

/** Attribute names HTML accepts (and nothing that could close the tag). */
const ATTR_NAME = /^[a-zA-Z_:@][-a-zA-Z0-9_:.@]*$/;

/**
 * The attributes of `values`, each preceded by a space, ready to put inside a tag.
 *
 * @example
 * html`<input${attrs({ name: 'b', value: v, readonly: true, disabled: false, class: ['x', err && 'has-error'] })}>`
 * // <input name="b" value="…" readonly class="x has-error">
 */
export function attrs(values: Readonly<Record<string, AttrValue>>): SafeHtml {
  let out = '';
  for (const name of Object.keys(values)) {
    if (!ATTR_NAME.test(name)) throw new InletError('INLET_ERR_RENDER_VALUE', `"${name.slice(0, 40)}" is not an attribute name.`);
    const text = attrText(values[name]);
    if (text === undefined) continue;
    out += text === true ? ` ${name}` : ` ${name}="${escapeHtml(text)}"`;
  }
  return new SafeHtml(out);
}

function attrText(value: AttrValue): string | true | undefined {
  if (value === true) return true;
  if (value === false || value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value instanceof JS) return value.toString();
  return value.filter((v) => typeof v === 'string' ? v !== '' : typeof v === 'number').join(' ');
}

/**
 * What {@link optionsForSelect} takes: values, `[label, value]` pairs, option objects, or groups.
 *
 * @example
 * const options: SelectOption[] = ['Any', ['Small', 's'], { label: 'Large', value: 'l', disabled: true }, { label: 'Other', options: ['XL', 'XXL'] }]
 * html`<select name="size">${optionsForSelect(options, 's')}</select>`
 */
export type SelectOption =
  | string
  | number
  | readonly [label: string, value: string | number]
  | { readonly label: string; readonly value: string | number; readonly disabled?: boolean }
  | { readonly label: string; readonly options: readonly SelectOption[] };

/**
 * `<option>` tags for a `<select>`, with `selected` on the options whose value
 * equals `selected` (or is one of them, for `multiple`), compared as strings;
 * Phoenix's `options_for_select`.
 *
 * @example
 * html`<select name="d">${optionsForSelect(['foo', 'bar'], 'bar')}</select>`
 * html`<select name="status">${optionsForSelect([['Connecting', 'connecting'], ['Loaded', 'loaded']], status)}</select>`
 */
export function optionsForSelect(options: Iterable<SelectOption>, selected?: unknown): SafeHtml {
  const chosen = new Set<string>();
  for (const v of Array.isArray(selected) ? (selected as unknown[]) : [selected]) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') chosen.add(String(v));
  }
  return new SafeHtml(optionList(options, chosen));
}

function optionList(options: Iterable<SelectOption>, chosen: ReadonlySet<string>): string {
  let out = '';
  for (const option of options) {
    if (typeof option === 'string' || typeof option === 'number') {
      out += optionTag(String(option), String(option), chosen, false);
    } else if (Array.isArray(option)) {
      const [label, value] = option as readonly [string, string | number];
      out += optionTag(label, String(value), chosen, false);
    } else if ('options' in option) {
      out += `<optgroup label="${escapeHtml(option.label)}">${optionList(option.options, chosen)}</optgroup>`;
    } else if ('value' in option) {
      out += optionTag(option.label, String(option.value), chosen, option.disabled === true);
    }
  }
  return out;
}

function optionTag(label: string, value: string, chosen: ReadonlySet<string>, disabled: boolean): string {
  return `<option value="${escapeHtml(value)}"${chosen.has(value) ? ' selected' : ''}${disabled ? ' disabled' : ''}>${escapeHtml(label)}</option>`;
}
