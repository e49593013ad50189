/**
 * Shared fast-check arbitraries for the protocol fuzz cases. Plans stay small
 * (sizes and choices, not megabytes of data), so a failing case prints and
 * shrinks well; the case builders expand them.
 */
import fc from 'fast-check';

/** Strings a hostile client would try in any string field. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '', ' ', '\u0000', '\ud800', '\udfff', '\udc00\ud800', '\ufeff', '💥', 'lv:', 'lvu:', 'lvu:0', 'phoenix', '__proto__',
      'constructor', 'prototype', 'phx_join', 'phx_leave', 'phx_reply', 'phx_error', 'phx_close', 'heartbeat', 'event', 'chunk',
      'null', 'undefined', '0', '-1', '1e309', '../../etc/passwd', '<script>', '%00', 'a'.repeat(300),
    ),
  },
);

/** Any JSON value, small. */
export const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

/** Values of every JSON type, biased to the surprising ones. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: json },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, [], {}, [null], { __proto__: null }) },
);

/** Event names the example views handle, and others. */
export const EVENT_NAMES = [
  'inc', 'dec', 'reset', 'validate', 'save', 'cancel', 'add', 'remove', 'rename', 'like', 'bump', 'bump-every-10th',
  'reverse', 'prepend', 'remove-first', 'go-two', 'lv:clear-flash',
] as const;

export const eventName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...EVENT_NAMES) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: anyValue },
);

/** Form field names: nesting, lists, prototype keys, very deep brackets. */
const fieldName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('user[name]', 'user[email]', '_target', 'ref', 'id', 'index', 'key', 'a[]', 'a[b][]', 'a[][b]', '[x]', '[]', 'a]', 'a[', '__proto__[polluted]', 'constructor[prototype][polluted]', 'user[__proto__][x]', 'user[name][]'),
  fc.integer({ min: 1, max: 5000 }).map((n) => `a${'[b]'.repeat(n)}`),
  nastyString,
);

/** A urlencoded form value, sometimes raw (broken percent escapes, bare `&` and `=`). */
export const formValue: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.tuple(fieldName, fc.oneof(nastyString, fc.constant(''))), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString()),
  fc.array(fc.tuple(fieldName, nastyString), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
  fc.constantFrom('%', '%zz', '&&&', '==', '=&=', 'a=%E0%A4%A', `${'x=1&'.repeat(20_000)}`),
);

/** A client file description for `uploads` and `allow_upload`, with hostile fields. */
export const fileDesc: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    ref: fc.oneof({ weight: 5, arbitrary: fc.nat(20).map(String) }, { weight: 1, arbitrary: anyValue }, { weight: 1, arbitrary: fc.constant('r'.repeat(65)) }),
    name: fc.oneof(fc.constantFrom('a.png', 'b.jpg', 'c.txt', '../../x.png', '\u0000.png', '.png', 'a'.repeat(2000) + '.png', 'con.png', '💥.gif'), anyValue),
    type: fc.oneof(fc.constantFrom('image/png', 'text/plain', '', 'image/*'), anyValue),
    size: fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(0, -1, 1.5, 2 ** 53, 2 ** 60, 10 * 1024 * 1024 + 1), anyValue),
    relative_path: anyValue,
    last_modified: anyValue,
    meta: anyValue,
    path: anyValue,
  },
  { requiredKeys: ['ref'] },
);

/** Replaces the string "$conf" anywhere in `v` by `confRef`. */
export function withConf(v: unknown, confRef: string): unknown {
  if (v === '$conf') return confRef;
  if (Array.isArray(v)) return v.map((x) => withConf(x, confRef));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k === '$conf' ? confRef : k] = withConf(x, confRef);
    return out;
  }
  return v;
}

/** A string of `n` UTF-16 units made of `unit` repeated (may end in half a surrogate pair). */
export function repeatTo(unit: string, n: number): string {
  const u = unit.length > 0 ? unit : 'x';
  return u.repeat(Math.ceil(n / u.length)).slice(0, n);
}
