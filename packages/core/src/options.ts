/**
 * Option checking for every public entry point that takes options
 * (`createServer`, `attach`, `allowUpload`, `chunkedUpload`, the adapters).
 * A bad value throws {@link InletOptionError} (`INLET_ERR_CONFIG_OPTION`)
 * naming the option by its full path (`receiver.ttlMs`), what it must be and
 * what it got. Unknown keys are refused too, with the closest known name.
 * Pure: no I/O.
 */
import { InletError } from './errors.js';

/**
 * A configuration mistake: one option has a bad value. `option` is its path
 * (`maxChannels`, `receiver.ttlMs`, `allowUpload("avatar").maxEntries`).
 *
 * @example
 * try { createServer({ routes, maxChannels: -5 }) }
 * catch (e) { if (e instanceof InletOptionError) console.log(e.option) } // 'maxChannels'
 */
export class InletOptionError extends InletError {
  /** The option's path, e.g. `receiver.ttlMs`. */
  readonly option: string;

  constructor(option: string, detail: string) {
    super('INLET_ERR_CONFIG_OPTION', `${option} ${detail}`);
    this.name = 'InletOptionError';
    this.option = option;
  }
}

/**
 * Checks one option's value; throws with `path` named when it is bad. Undefined never reaches a check.
 *
 * @example
 * const port: Check = (value, path) => {
 *   if (typeof value !== 'number' || value < 1 || value > 65_535) throw new InletOptionError(path, 'must be a port number.')
 * }
 * checkInletOptions(options, { port })
 */
export type Check = (value: unknown, path: string) => void;

/**
 * A description of an options object: one check per known key.
 *
 * @example
 * // an adapter's own options, checked with Inlet's
 * const extra: Schema = { prefix: string(/^\//, 'a path starting with "/"'), verbose: boolean }
 * checkInletOptions(options, extra)
 */
export type Schema = Readonly<Record<string, Check>>;

/** A short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function fail(path: string, expected: string, value: unknown): never {
  throw new InletOptionError(path, `must be ${expected}, got ${describe(value)}.`);
}

/**
 * A safe integer within `min`..`max` (default: positive).
 * @example
 * checkOptions({ maxChannels: -5 }, { maxChannels: integer() }) // throws: maxChannels must be an integer from 1 …
 */
export function integer(min = 1, max = Number.MAX_SAFE_INTEGER): Check {
  const expected =
    max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer ≥ ${min}`) : `an integer from ${min} to ${max}`;
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) fail(path, expected, value);
  };
}

/**
 * A non-empty string (optionally matching `pattern`, described by `what`).
 * @example
 * checkOptions({ path: 'x' }, { path: string(/^\//, 'a path starting with "/"') }) // throws INLET_ERR_CONFIG_OPTION naming `path`
 */
export function string(pattern?: RegExp, what = 'a non-empty string'): Check {
  return (value, path) => {
    if (typeof value !== 'string' || value.length === 0 || (pattern && !pattern.test(value))) fail(path, what, value);
  };
}

/** Any string, the empty one included. */
export const anyString: Check = (value, path) => {
  if (typeof value !== 'string') fail(path, 'a string', value);
};

/**
 * A boolean.
 *
 * @example
 * checkInletOptions({ routes, verbose: 'yes' }, { verbose: boolean }) // throws: verbose must be true or false, got "yes".
 */
export const boolean: Check = (value, path) => {
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
};

/**
 * A function.
 *
 * @example
 * checkInletOptions({ routes, onReady: 42 }, { onReady: func }) // throws: onReady must be a function, got 42.
 */
export const func: Check = (value, path) => {
  if (typeof value !== 'function') fail(path, 'a function', value);
};

/** One of the given literal values. */
export function oneOf(...values: readonly (string | number | boolean)[]): Check {
  return (value, path) => {
    if (!values.includes(value as string)) fail(path, `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, value);
  };
}

/** An array (a string is not one) whose items pass `item`. */
export function list(item: Check, what = 'a list'): Check {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, what, value);
    value.forEach((v, i) => item(v, `${path}[${i}]`));
  };
}

/** An object with the named methods (a structural interface such as `PubSub`). */
export function implementing(what: string, ...methods: readonly string[]): Check {
  return (value, path) => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) fail(path, what, value);
    for (const m of methods) {
      if (typeof (value as Record<string, unknown>)[m] !== 'function') {
        throw new InletOptionError(path, `must be ${what} (its ${m} is ${describe((value as Record<string, unknown>)[m])}).`);
      }
    }
  };
}

/** The first check that passes wins; the error lists what each wanted. */
export function either(what: string, ...checks: readonly Check[]): Check {
  return (value, path) => {
    for (const check of checks) {
      try {
        check(value, path);
        return;
      } catch (e) {
        if (!(e instanceof InletOptionError)) throw e;
      }
    }
    fail(path, what, value);
  };
}

/**
 * A nested options object checked against `schema`.
 * @example
 * checkOptions({ receiver: { ttlMs: 0 } }, { receiver: object({ ttlMs: integer() }) }) // throws naming receiver.ttlMs
 */
export function object(schema: Schema, what = 'an object'): Check {
  return (value, path) => checkOptions(value, schema, path, what);
}

/** A plain record whose values pass `item`. */
export function record(item: Check, what = 'an object'): Check {
  return (value, path) => {
    if (!isPlainObject(value)) fail(path, what, value);
    for (const [k, v] of Object.entries(value)) item(v, `${path}[${JSON.stringify(k)}]`);
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks `options` against `schema`: every known key that is not undefined
 * passes its check, and no other key is present.
 *
 * @example
 * checkOptions({ maxChannels: -5 }, { maxChannels: integer() }, '')
 * // throws InletOptionError: maxChannels must be a positive integer, got -5.
 */
export function checkOptions(options: unknown, schema: Schema, prefix = '', what = 'an object'): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) {
    if (prefix) fail(prefix, what, options);
    throw new InletOptionError('options', `must be an object, got ${describe(options)}.`);
  }
  for (const [key, value] of Object.entries(options)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const check = schema[key];
    if (!check) {
      const near = closest(key, Object.keys(schema));
      throw new InletOptionError(path, `is not an option${near ? ` (did you mean ${prefix ? `${prefix}.` : ''}${near}?)` : ''}.`);
    }
    if (value !== undefined) check(value, path);
  }
}

/** The known name nearest to a misspelt one, if any is close. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
