/**
 * Decodes form payloads the way Phoenix (Plug) does: `a[b]=1` nests,
 * `a[]=1&a[]=2` makes a list, `a[][b]=1&a[][c]=2` a list of maps (a new map
 * starts when a key repeats), a repeated plain key keeps its last value; and
 * turns `_target` into the key path of the changed field; gathers an event's
 * fields from its value and meta. Bounded against hostile input.
 */

/** Deepest nesting accepted in a field name. */
export const MAX_PARAM_DEPTH = 16;
/** Most fields accepted in one form payload. */
export const MAX_PARAM_FIELDS = 10_000;

/**
 * Decoded form or query params: strings, lists and nested maps.
 * @example
 * const p: Params = decodeForm('user[name]=Ada') // { user: { name: 'Ada' } }
 */
export type Params = { [key: string]: string | string[] | Params | Params[] };

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Decodes a form-encoded query as Plug does: nested keys, lists and lists of maps.
 *
 * @example
 * decodeForm('user[name]=Ada&tags[]=a&tags[]=b') // { user: { name: 'Ada' }, tags: ['a', 'b'] }
 * decodeForm('u[][n]=a&u[][n]=b')                 // { u: [{ n: 'a' }, { n: 'b' }] }
 */
export function decodeForm(query: string): Params {
  const out: Params = Object.create(null) as Params;
  const search = new URLSearchParams(query);
  let count = 0;
  for (const [name, value] of search) {
    if (++count > MAX_PARAM_FIELDS) break;
    const keys = keysOf(name);
    if (keys.some((k) => UNSAFE_KEYS.has(k))) continue;
    put(out, keys, 0, value);
  }
  return out;
}

/** `user[name][]` → `['user', 'name', '']`. */
export function keysOf(name: string): string[] {
  const open = name.indexOf('[');
  if (open <= 0) return [name];
  const keys = [name.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  re.lastIndex = open;
  let m: RegExpExecArray | null;
  while ((m = re.exec(name)) && keys.length <= MAX_PARAM_DEPTH) keys.push(m[1] ?? '');
  return keys;
}

/**
 * The key path Phoenix hands over as `_target`: the changed field's name
 * split into its keys, list brackets dropped.
 *
 * @example
 * targetPath('user[emails][]') // ['user', 'emails']
 */
export function targetPath(name: string): string[] {
  return keysOf(name).filter((k, i) => i === 0 || k !== '');
}

function isParams(v: unknown): v is Params {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function put(node: Params, keys: readonly string[], i: number, value: string): void {
  const key = keys[i] as string;
  if (i === keys.length - 1) {
    node[key] = value;
    return;
  }
  if (keys[i + 1] === '') {
    // A list: `a[]` appends a value, `a[][b]` fills the last map (or starts one).
    const existing = node[key];
    if (i + 1 === keys.length - 1) {
      if (Array.isArray(existing) && (existing.length === 0 || typeof existing[0] === 'string')) (existing as string[]).push(value);
      else node[key] = [value];
      return;
    }
    const sub = keys[i + 2] as string;
    const list: Params[] = Array.isArray(existing) && (existing.length === 0 || isParams(existing[0])) ? (existing as Params[]) : [];
    if (list !== existing) node[key] = list;
    let last = list[list.length - 1];
    if (!last || (keys.length === i + 3 ? sub in last : !isParams(last[sub]) && !Array.isArray(last[sub]) && sub in last)) {
      last = Object.create(null) as Params;
      list.push(last);
    }
    put(last, keys, i + 2, value);
    return;
  }
  const existing = node[key];
  let child: Params;
  if (isParams(existing)) child = existing;
  else {
    child = Object.create(null) as Params;
    node[key] = child;
  }
  put(child, keys, i + 1, value);
}

/** The fields of an event: decoded form values plus meta (`_target` as a key path), or the click/key/hook value object. */
export function eventFields(type: string, value: unknown, meta: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (type === 'form' && typeof value === 'string') copyFields(out, decodeForm(value));
  else if (isParams(value)) copyFields(out, value);
  else if (value !== undefined && value !== null) out.value = value;
  if (isParams(meta)) copyFields(out, meta);
  // As Phoenix: the changed field's key path (`user[name]` -> ['user', 'name']).
  if (type === 'form' && typeof out._target === 'string') out._target = targetPath(out._target);
  return out;
}

function copyFields(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) if (!UNSAFE_KEYS.has(key)) target[key] = source[key];
}
