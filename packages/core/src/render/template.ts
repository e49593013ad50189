/**
 * The `html` tagged template and the values it understands.
 *
 * A template's `strings` array is the same object on every call from one call
 * site, so it doubles as the template's fingerprint: two renders from the same
 * place share statics and only their dynamics are compared.
 */

/**
 * The result of an `html` tagged template: statics plus the interpolated values.
 * @example
 * const t: Template = html`<p>${name}</p>` // t.strings: ['<p>', '</p>'], t.values: [name]
 */
export class Template {
  constructor(
    readonly strings: TemplateStringsArray | readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/**
 * HTML that is trusted and inserted without escaping. Create it with {@link safe}.
 * @example
 * html`<div>${safe('<b>trusted</b>')}</div>`
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * Tags a string as trusted HTML, so templates insert it unescaped.
 * Never pass user input.
 *
 * @example
 * html`<div>${safe('<b>bold</b>')}</div>`
 */
export function safe(value: string): SafeHtml {
  return new SafeHtml(value);
}

/**
 * Builds a template. Interpolated strings and numbers are HTML-escaped;
 * `null`, `undefined` and `false` render nothing; nested templates and arrays
 * of templates render as nested parts and comprehensions.
 *
 * @example
 * html`<p class="${cls}">Hello ${name}</p>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Template {
  return new Template(strings, values);
}

/**
 * A keyed list; see {@link repeat}.
 * @example
 * const rows: Repeat<Row> = repeat(items, (r) => r.id, (r) => html`<li>${r.name}</li>`)
 */
export class Repeat<T = unknown> {
  constructor(
    readonly items: readonly T[],
    readonly key: (item: T, index: number) => string | number,
    readonly render: (item: T, index: number) => Template,
  ) {}
}

/**
 * A keyed comprehension: entries are matched across renders by key, so
 * inserting, removing or reordering items sends only moves and changed entries.
 *
 * @example
 * html`<ul>${repeat(rows, (r) => r.id, (r) => html`<li>${r.name}</li>`)}</ul>`
 */
export function repeat<T>(
  items: readonly T[],
  key: (item: T, index: number) => string | number,
  render: (item: T, index: number) => Template,
): Repeat<T> {
  return new Repeat(items, key, render);
}
