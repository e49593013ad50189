/**
 * Decodes form payloads the way Phoenix does: `a[b][]=1` nests, `_target`
 * names the changed field. Bounded against hostile input.
 */

/** Deepest nesting accepted in a field name. */
export const MAX_PARAM_DEPTH = 16;
/** Most fields accepted in one form payload. */
export const MAX_PARAM_FIELDS = 10_000;

export type Params = { [key: string]: string | string[] | Params | Params[] };

/**
 * @example
 * decodeForm('user[name]=Ada&tags[]=a&tags[]=b') // { user: { name: 'Ada' }, tags: ['a', 'b'] }
 */
export function decodeForm(query: string): Params {
  const out: Params = Object.create(null) as Params;
  const search = new URLSearchParams(query);
  let count = 0;
  for (const [name, value] of search) {
    if (++count > MAX_PARAM_FIELDS) break;
    put(out, keysOf(name), value);
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

function put(target: Params, keys: string[], value: string): void {
  let node: Params = target;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return;
    const last = i === keys.length - 1;
    const nextIsList = keys[i + 1] === '';
    if (last) {
      node[key] = value;
      return;
    }
    if (nextIsList && i + 1 === keys.length - 1) {
      const existing = node[key];
      if (Array.isArray(existing)) (existing as string[]).push(value);
      else node[key] = [value];
      return;
    }
    const existing = node[key];
    if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) node = existing;
    else {
      const child = Object.create(null) as Params;
      node[key] = child;
      node = child;
    }
  }
}
