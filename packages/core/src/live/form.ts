/**
 * Form data for templates, after Phoenix's `to_form`: a form names and ids
 * its fields (`user[email]`, `user_email`), holds the params it was built
 * from and the errors to show, and tells which fields the user has used.
 */

/**
 * Field errors by field name.
 *
 * @example
 * const errors: FormErrors = { email: 'is invalid', name: ["can't be blank", 'is too short'] }
 * socket.assign({ form: toForm(event.user, { as: 'user', errors, action: 'validate' }) })
 */
export type FormErrors = Readonly<Record<string, string | readonly string[]>>;

/**
 * Options of {@link toForm}.
 *
 * @example
 * const options: FormOptions = { as: 'user', id: 'signup', errors: { email: 'is taken' }, action: 'validate' }
 * const form = toForm(params, options) // fields named user[email], ids signup_email
 */
export interface FormOptions {
  /** The params prefix: fields are named `as[field]`. Without it, a field's name is its own. */
  readonly as?: string;
  /** The base of field ids (`id_field`). Default: `as`. */
  readonly id?: string;
  /** Errors to show, by field. */
  readonly errors?: FormErrors;
  /** What the form is doing (Phoenix uses `'validate'`); templates may show errors only once it is set. */
  readonly action?: string;
}

type Values = Readonly<Record<string, unknown>>;

/**
 * One field of a {@link Form}, what an input needs: its id, name, value and errors.
 *
 * @example
 * const email: FormField = form.field('email') // { id: 'user_email', name: 'user[email]', value, errors, field: 'email', form }
 * html`<input id="${email.id}" name="${email.name}" value="${email.value ?? ''}">`
 */
export interface FormField {
  /** The input's id, e.g. `user_email`. */
  readonly id: string;
  /** The input's name, e.g. `user[email]`. */
  readonly name: string;
  /** The field's current value in the params (undefined when absent). */
  readonly value: unknown;
  /** The field's errors. */
  readonly errors: readonly string[];
  /** The field's key in the params. */
  readonly field: string;
  /** The form it belongs to. */
  readonly form: Form;
}

/**
 * A form over a params object; see {@link toForm}.
 * @example
 * const form = toForm(params.user, { as: 'user' })
 * html`<input name=${form.field('name').name} value=${form.field('name').value}>`
 */
export class Form {
  /** Base of field ids, if any. */
  readonly id: string | undefined;
  /** The params prefix, if any. */
  readonly name: string | undefined;
  /** The params the form shows (usually the last `phx-change` params, `_unused_` keys included). */
  readonly params: Values;
  readonly errors: Readonly<Record<string, readonly string[]>>;
  readonly action: string | undefined;
  /** This form's position among the forms {@link inputsFor} returned. */
  readonly index: number | undefined;

  constructor(params: Values, options: FormOptions & { readonly index?: number } = {}) {
    this.params = params;
    this.name = options.as;
    this.id = options.id ?? options.as;
    this.action = options.action;
    this.index = options.index;
    const errors: Record<string, readonly string[]> = {};
    for (const [field, list] of Object.entries(options.errors ?? {})) errors[field] = typeof list === 'string' ? [list] : [...list];
    this.errors = errors;
  }

  /**
   * The field `name`: Phoenix's `form[:name]`.
   *
   * @example
   * const email = form.field('email')
   * html`<input id="${email.id}" name="${email.name}" value="${email.value ?? ''}">`
   */
  field(name: string): FormField {
    return {
      id: this.id === undefined ? name : `${this.id}_${name}`,
      name: this.name === undefined ? name : `${this.name}[${name}]`,
      value: Object.hasOwn(this.params, name) ? this.params[name] : undefined,
      errors: this.errors[name] ?? [],
      field: name,
      form: this,
    };
  }
}

/**
 * A form over `params` (a map, typically the params of the last change
 * event): Phoenix's `to_form`.
 *
 * @example
 * handleEvent: (e, socket) => socket.assign({ form: toForm(e.user, { as: 'user', errors: validate(e.user), action: 'validate' }) })
 * // render: const name = form.field('name') -> { id: 'user_name', name: 'user[name]', value, errors }
 */
export function toForm(params: Values = {}, options: FormOptions = {}): Form {
  return new Form(params ?? {}, options);
}

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function usedParam(params: Values, field: string): boolean {
  if (field.startsWith('_unused_')) return false;
  if (!Object.hasOwn(params, field)) return false;
  if (Object.hasOwn(params, `_unused_${field}`)) return false;
  const value = params[field];
  if (isMap(value)) return Object.keys(value).some((key) => usedParam(value, key));
  return true;
}

/**
 * Whether the user has used (focused, changed or submitted) a field: its key
 * is in the form's params without an `_unused_` sibling the client sends for
 * untouched inputs. A nested field counts as used when any part of it is.
 * Phoenix's `used_input?`; show a field's errors only once it is used.
 *
 * @example
 * ${usedInput(email) ? email.errors.map((e) => html`<p class="error">${e}</p>`) : ''}
 */
export function usedInput(field: FormField): boolean {
  return usedParam(field.form.params, field.field);
}

/**
 * Options of {@link inputsFor}.
 *
 * @example
 * // one empty row to fill in when the params have none yet
 * inputsFor(form.field('emails'), { default: [{ address: '' }] })
 */
export interface InputsForOptions {
  /** Rows when the params have none: a list of value maps (or `{}` for a single nested form). Default `[]`. */
  readonly default?: readonly Values[] | Values;
  /** Rows put before the defaults when the params have none. */
  readonly prepend?: readonly Values[];
  /** Rows put after the defaults when the params have none. */
  readonly append?: readonly Values[];
  /** Base of the nested forms' ids. Default `<form id>_<field>`. */
  readonly id?: string;
  /** Prefix of the nested forms' names. Default `<form name>[<field>]`. */
  readonly as?: string;
}

function indexOrder(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The nested forms of a field holding a list of maps (`users[0][name]`,
 * `users[1][name]`…) or one map: Phoenix's `<.inputs_for>`. Each form is named
 * `<field name>[<index>]`, ids `<field id>_<index>`, and has its `index`.
 * Rows come from the params (a map keyed by index, or a list), else from the
 * defaults.
 *
 * @example
 * ${inputsFor(form.field('users')).map((u) => html`<input type="hidden" name="my_form[users_sort][]" value="${u.index}">
 *   <input id="${u.field('name').id}" name="${u.field('name').name}" value="${u.field('name').value ?? ''}">`)}
 */
export function inputsFor(field: FormField, options: InputsForOptions = {}): Form[] {
  const parent = field.form;
  const id = options.id ?? `${parent.id ?? ''}${parent.id === undefined ? '' : '_'}${field.field}`;
  const name = options.as ?? field.name;
  const fieldErrors = nestedErrors(parent, field.field);
  const value = field.value;
  if (options.default !== undefined && !Array.isArray(options.default)) {
    return [new Form(isMap(value) ? value : (options.default as Values), { as: name, id, action: parent.action, errors: fieldErrors[0] })];
  }
  let rows: Values[];
  if (Array.isArray(value)) rows = value.filter(isMap);
  else if (isMap(value)) {
    rows = Object.keys(value)
      .filter((k) => !k.startsWith('_unused_') && isMap(value[k]))
      .sort(indexOrder)
      .map((k) => value[k] as Values);
  } else rows = [...(options.prepend ?? []), ...((options.default as readonly Values[] | undefined) ?? []), ...(options.append ?? [])];
  return rows.map((row, index) => new Form(row, { as: `${name}[${index}]`, id: `${id}_${index}`, index, action: parent.action, errors: fieldErrors[index] }));
}

/** Errors given for nested rows as `errors['users.0.name']`. */
function nestedErrors(parent: Form, field: string): Record<number, Record<string, readonly string[]>> {
  const out: Record<number, Record<string, readonly string[]>> = {};
  const prefix = `${field}.`;
  for (const [key, list] of Object.entries(parent.errors)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    const index = dot < 0 ? 0 : Number(rest.slice(0, dot));
    const sub = dot < 0 ? rest : rest.slice(dot + 1);
    if (!Number.isInteger(index)) continue;
    (out[index] ??= {})[sub] = list;
  }
  return out;
}
