/**
 * Frame-level fuzz cases: junk text, wrong arity and types, huge strings,
 * deep nesting, invalid UTF-8, lone surrogates, unknown topics and events,
 * and binary frames with truncated headers and lying lengths.
 *
 * Each case kind is a fast-check arbitrary of a small plan plus a function
 * that turns the plan into frames on a lane. Which answer to wait for is read
 * off the frame as the server would read it (`expectText`, `expectBinary`);
 * the oracle itself (some answer, in time) lives in the lane.
 */
import fc from 'fast-check';
import { anyValue, eventName, fileDesc, formValue, json, nastyString, repeatTo } from './gen.js';
import { frame, type Lane } from './lane.js';
import type { Send } from './fuzz-socket.js';

/** A case kind: a plan arbitrary and how to run a plan. */
export interface Kind<P = unknown> {
  readonly name: string;
  readonly weight: number;
  readonly arb: fc.Arbitrary<P>;
  run(plan: P, lane: Lane): Promise<void>;
}

export const kind = <P>(k: Kind<P>): Kind => k as unknown as Kind;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** What the server will read from a text frame: its ref (if a string), topic and join ref. */
export function expectText(data: string | Buffer): Pick<Send, 'ref' | 'topic' | 'joinRef'> {
  let text: string;
  try {
    // What arrives: a string goes out as UTF-8, lone surrogates becoming U+FFFD.
    text = typeof data === 'string' ? Buffer.from(data, 'utf8').toString('utf8') : fatalUtf8.decode(data);
  } catch {
    return { ref: null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ref: null };
  }
  if (!Array.isArray(parsed)) return { ref: null };
  const [jr, ref, topic] = parsed as unknown[];
  return {
    ref: typeof ref === 'string' ? ref : null,
    ...(typeof topic === 'string' ? { topic } : {}),
    joinRef: typeof jr === 'string' ? jr : null,
  };
}

/** A text frame, with what to wait for read off it. */
export function textSend(data: string | Buffer, event?: string): Send & { event?: string } {
  return { data, binary: false, ...expectText(data), ...(event ? { event } : {}) };
}

/** What the server will read from a binary frame (V2 push: kind 0, four lengths, strings, payload). */
export function expectBinary(data: Buffer): Pick<Send, 'ref' | 'topic' | 'joinRef'> {
  if (data.length < 5 || data[0] !== 0) return { ref: null };
  const lens = [data[1], data[2], data[3], data[4]] as number[];
  const end = 5 + lens.reduce((a, b) => a + b, 0);
  if (data.length < end) return { ref: null };
  let at = 5;
  const [jr, ref, topic] = lens.map((n) => {
    const s = data.toString('utf8', at, at + n);
    at += n;
    return s;
  }) as [string, string, string];
  return { ref, topic, joinRef: jr };
}

/** A V2 binary push (kind 0); strings longer than 255 bytes are cut, as no length byte can say more. */
export function binaryPush(joinRef: string, ref: string, topic: string, event: string, payload: Uint8Array): Buffer {
  const parts = [joinRef, ref, topic, event].map((s) => Buffer.from(s, 'utf8').subarray(0, 255));
  return Buffer.concat([Buffer.from([0, ...parts.map((b) => b.length)]), ...parts, payload]);
}

// ------------------------------------------------------------------ topics

export type TopicPick = 'phoenix' | 'unknown' | 'joined' | 'notJoined' | 'lvRandom' | 'lvuRandom' | 'foreign' | { raw: string };

export const topicPick: fc.Arbitrary<TopicPick> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<TopicPick>('phoenix', 'unknown', 'joined', 'joined', 'notJoined', 'lvRandom', 'lvuRandom', 'foreign') },
  { weight: 2, arbitrary: nastyString.map((raw): TopicPick => ({ raw })) },
);

/** Join refs a frame may carry: the channel's, none, a stale one, or a wrong type. */
export type JoinRefPick = 'current' | 'null' | 'stale' | { value: unknown };
export const joinRefPick: fc.Arbitrary<JoinRefPick> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<JoinRefPick>('current', 'null', 'stale') },
  { weight: 1, arbitrary: anyValue.map((value): JoinRefPick => ({ value })) },
);

export async function resolveTopic(pick: TopicPick, lane: Lane, n: number): Promise<{ topic: string; joinRef: string | null }> {
  if (typeof pick === 'object') return { topic: pick.raw, joinRef: null };
  switch (pick) {
    case 'phoenix':
      return { topic: 'phoenix', joinRef: null };
    case 'unknown':
      return { topic: `room:${n}`, joinRef: null };
    case 'joined':
      return (await lane.anyJoined(n)) ?? { topic: 'lv:none', joinRef: null };
    case 'notJoined':
      return { topic: `lv:${lane.forgePage('/counter').id}`, joinRef: null };
    case 'lvRandom':
      return { topic: `lv:phx-${n.toString(36)}`, joinRef: null };
    case 'lvuRandom':
      return { topic: `lvu:${n % 7}`, joinRef: null };
    case 'foreign': {
      const pages = lane.shared.pages;
      const page = pages[n % pages.length];
      return { topic: `lv:${page?.id ?? 'x'}`, joinRef: null };
    }
  }
}

export function resolveJoinRef(pick: JoinRefPick, current: string | null): unknown {
  if (typeof pick === 'object') return pick.value;
  if (pick === 'current') return current;
  if (pick === 'null') return null;
  return 'stale-join-ref';
}

// ----------------------------------------------------------------- payloads

export const CHANNEL_EVENTS = ['phx_join', 'phx_leave', 'heartbeat', 'event', 'live_patch', 'allow_upload', 'progress', 'cids_will_destroy', 'cids_destroyed', 'chunk'] as const;

export const eventPick: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CHANNEL_EVENTS) },
  { weight: 1, arbitrary: nastyString.filter((s) => s.length > 0) },
);

/** The payload of an `event` push as the official client sends it, with hostile fields. */
export const eventPayload: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('click', 'form', 'keyup', 'keydown', 'blur', 'focus', 'hook') }, { weight: 1, arbitrary: anyValue }),
    event: eventName,
    value: fc.oneof(json, formValue, anyValue, fc.record({ value: nastyString, key: nastyString, ref: nastyString, id: nastyString, index: anyValue })),
    meta: fc.oneof(json, fc.record({ _target: anyValue }), fc.constant({ __proto__: { polluted: 1 } })),
    cid: fc.oneof(fc.integer({ min: -1, max: 6 }), anyValue),
    uploads: fc.oneof(json, fc.dictionary(fc.constantFrom('$conf', 'phx-nope'), fc.array(fileDesc, { maxLength: 4 }), { maxKeys: 2 })),
  },
  { requiredKeys: ['type', 'event'] },
);

/** Payloads for any channel event. */
export const payloadFor = (event: string): fc.Arbitrary<unknown> => {
  switch (event) {
    case 'event':
      return eventPayload;
    case 'live_patch':
      return fc.record({ url: fc.oneof(fc.constantFrom('/counter', '/pages/one?tab=b', 'http://evil.example/pages/one', '//x', 'javascript:alert(1)', '/nope', ''), fc.webUrl(), anyValue) });
    case 'allow_upload':
      return fc.record({ ref: fc.oneof(fc.constant('$conf'), anyValue), entries: fc.oneof(fc.array(fileDesc, { maxLength: 6 }), anyValue), cid: anyValue }, { requiredKeys: [] });
    case 'progress':
      return fc.record({ ref: fc.oneof(fc.constant('$conf'), anyValue), entry_ref: fc.oneof(fc.nat(20).map(String), anyValue), progress: fc.oneof(fc.integer({ min: -5, max: 105 }), fc.record({ error: anyValue }), anyValue), event: anyValue }, { requiredKeys: [] });
    case 'cids_will_destroy':
    case 'cids_destroyed':
      return fc.record({ cids: fc.oneof(fc.array(fc.integer({ min: -1, max: 8 }), { maxLength: 5 }), anyValue) });
    default:
      return fc.oneof(fc.constant({}), fc.dictionary(nastyString, anyValue, { maxKeys: 4 }), eventPayload);
  }
};

const anyPayload: fc.Arbitrary<unknown> = eventPick.chain((e) => payloadFor(e));

// ------------------------------------------------------------------- kinds

/** Text that is not a V2 frame, or a valid frame cut or spliced with junk. */
const junkText = kind({
  name: 'junk-text',
  weight: 12,
  arb: fc.oneof(
    fc.record({ t: fc.constant('str' as const), s: fc.string({ unit: 'binary', maxLength: 200 }) }),
    fc.record({ t: fc.constant('const' as const), s: fc.constantFrom('', ' ', 'null', '[]', '{}', '"x"', '1', 'true', '[[[[', ']', '[null,null,null,null,null]', '[1,2,3,4,5]', '["1","1","phoenix","heartbeat",{}', '\u0000', '[null,"1","phoenix","heartbeat",{}]]', '[null,"1","phoenix","heartbeat",{}] x') }),
    fc.record({ t: fc.constant('cut' as const), at: fc.nat(), topic: topicPick }),
    fc.record({ t: fc.constant('splice' as const), at: fc.nat(), s: nastyString, topic: topicPick }),
  ),
  async run(p, lane) {
    let data: string;
    if (p.t === 'str' || p.t === 'const') data = p.s;
    else {
      const { topic, joinRef } = await resolveTopic(p.topic, lane, p.at);
      const whole = frame(joinRef, lane.ref(), topic, 'event', { type: 'click', event: 'inc', value: {} });
      const at = p.at % (whole.length + 1);
      data = p.t === 'cut' ? whole.slice(0, at) : whole.slice(0, at) + p.s + whole.slice(at);
    }
    await lane.step(textSend(data));
  },
});

/** Arrays of the wrong length. */
const arity = kind({
  name: 'arity',
  weight: 10,
  arb: fc.record({ len: fc.integer({ min: 0, max: 9 }).filter((n) => n !== 5), extra: fc.array(anyValue, { maxLength: 4 }), topic: topicPick, event: eventPick }),
  async run(p, lane) {
    const { topic, joinRef } = await resolveTopic(p.topic, lane, p.len);
    const full = [joinRef, lane.ref(), topic, p.event, {}, ...p.extra];
    while (full.length < p.len) full.push(null);
    await lane.step(textSend(JSON.stringify(full.slice(0, p.len))));
  },
});

/** Five elements, any of them of the wrong type. */
const types = kind({
  name: 'types',
  weight: 16,
  arb: fc.record({
    jr: joinRefPick,
    ref: fc.oneof({ weight: 4, arbitrary: fc.constant('fresh' as const) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyValue.map((v) => ({ v })) }),
    topic: fc.oneof({ weight: 5, arbitrary: topicPick }, { weight: 1, arbitrary: anyValue.map((v) => ({ v })) }),
    event: fc.oneof({ weight: 5, arbitrary: eventPick }, { weight: 1, arbitrary: anyValue.map((v) => ({ v })) }),
    payload: fc.oneof({ weight: 5, arbitrary: anyPayload }, { weight: 1, arbitrary: anyValue }),
    n: fc.nat(),
  }),
  async run(p, lane) {
    const isWrong = (x: unknown): x is { v: unknown } => typeof x === 'object' && x !== null && 'v' in x;
    const t = isWrong(p.topic) ? { topic: p.topic.v, joinRef: null } : await resolveTopic(p.topic, lane, p.n);
    const ref = p.ref === 'fresh' ? lane.ref() : p.ref === null ? null : p.ref.v;
    const event = isWrong(p.event) ? p.event.v : p.event;
    await lane.step(textSend(frame(resolveJoinRef(p.jr, t.joinRef), ref, t.topic, event, p.payload), typeof event === 'string' ? event : undefined));
  },
});

/** Largest frame the huge cases send: under the server's 9 MiB limit (DEFAULT_MAX_FRAME_BYTES). */
const MAX_FRAME = 8 * 1024 * 1024;

/** One field of up to 1 MiB (the frame stays under the 9 MiB limit). */
const huge = kind({
  name: 'huge',
  weight: 2,
  arb: fc.record({
    field: fc.constantFrom('topic', 'event', 'ref', 'joinRef', 'value', 'key', 'form', 'session'),
    n: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 50_000, max: 200_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 200_000, max: 1_048_576 }) }),
    unit: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }), fc.constantFrom('x', '"', '\\', '\u0000', '💥', '<', '\ud800')),
  }),
  async run(p, lane) {
    let big = repeatTo(p.unit, p.n);
    const joined = await lane.anyJoined(p.n);
    const topic = joined?.topic ?? 'lv:none';
    const jr = joined?.joinRef ?? null;
    const ref = lane.ref();
    const click = { type: 'click', event: 'inc', value: {} };
    const f = {
      topic: () => frame(null, ref, `lv:${big}`, 'event', click),
      event: () => frame(jr, ref, topic, big, click),
      ref: () => frame(jr, ref + big, topic, 'event', click),
      joinRef: () => frame(big, ref, topic, 'event', click),
      value: () => frame(jr, ref, topic, 'event', { ...click, value: { v: big } }),
      key: () => frame(jr, ref, topic, 'event', { ...click, value: { [big]: 1 } }),
      form: () => frame(jr, ref, topic, 'event', { type: 'form', event: 'validate', value: `user[name]=${encodeURIComponent(Buffer.from(big).toString())}`, meta: { _target: 'user[name]' } }),
      session: () => frame(ref, ref, `lv:${lane.forgePage('/counter').id}`, 'phx_join', { url: `${lane.base}/counter`, session: big, static: 'x' }),
    }[p.field];
    // Escapes and percent-encoding can grow a 1 MiB string past the 9 MiB frame limit: stay under 8 MiB.
    let text = f();
    for (let size = Buffer.byteLength(text); size > MAX_FRAME; size = Buffer.byteLength(text)) {
      big = big.slice(0, Math.floor((big.length * MAX_FRAME) / size / 1.01));
      text = f();
    }
    await lane.step(textSend(text, p.field === 'session' ? 'phx_join' : 'event'));
  },
});

/** Nesting up to 200,000 levels in every part of a frame. */
const deep = kind({
  name: 'deep',
  weight: 3,
  arb: fc.record({
    depth: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 2, max: 2000 }) }, { weight: 1, arbitrary: fc.integer({ min: 2000, max: 200_000 }) }),
    shape: fc.constantFrom('array', 'object'),
    where: fc.constantFrom('unknown', 'value', 'join', 'topic', 'uploads', 'meta', 'frame'),
  }),
  async run(p, lane) {
    const d = p.depth;
    const nested = p.shape === 'array' ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
    const joined = p.where === 'value' || p.where === 'uploads' || p.where === 'meta' ? await lane.anyJoined(d) : undefined;
    const jr = JSON.stringify(joined?.joinRef ?? null);
    const topic = JSON.stringify(joined?.topic ?? 'room:deep');
    const ref = JSON.stringify(lane.ref());
    const text = {
      unknown: `[null,${ref},"room:deep","event",{"v":${nested}}]`,
      value: `[${jr},${ref},${topic},"event",{"type":"hook","event":"inc","value":${nested}}]`,
      uploads: `[${jr},${ref},${topic},"event",{"type":"form","event":"validate","value":"","uploads":{"x":${nested}}}]`,
      meta: `[${jr},${ref},${topic},"event",{"type":"form","event":"validate","value":"","meta":${nested}}]`,
      join: `[${ref},${ref},"lv:${lane.forgePage('/counter').id}","phx_join",{"session":${nested},"url":${nested}}]`,
      topic: `[null,${ref},${nested},"event",{}]`,
      frame: p.shape === 'array' ? `[${nested},${ref},"phoenix","heartbeat",{}]` : nested,
    }[p.where];
    await lane.step(textSend(text, p.where === 'join' ? 'phx_join' : 'event'));
  },
});

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0x80], [0xbf], [0xc0, 0xaf], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xfe], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x92], [0xc3, 0x28], [0xa0, 0xa1],
];

/** Text frames that are not UTF-8 (ws must close 1007), alone or inside a valid frame. */
const utf8 = kind({
  name: 'invalid-utf8',
  weight: 8,
  arb: fc.record({
    bytes: fc.oneof(fc.constantFrom(...INVALID_UTF8), fc.uint8Array({ minLength: 1, maxLength: 16 }).map((a) => [...a])),
    where: fc.constantFrom('alone', 'topic', 'event', 'ref', 'payload'),
  }),
  async run(p, lane) {
    const bad = Buffer.from(p.bytes);
    const ref = lane.ref();
    const marker = '@@BAD@@';
    const base = {
      alone: marker,
      topic: frame(null, ref, `room:${marker}`, 'event', {}),
      event: frame(null, ref, 'phoenix', `heartbeat${marker}`, {}),
      ref: frame(null, `${ref}${marker}`, 'phoenix', 'heartbeat', {}),
      payload: frame(null, ref, 'phoenix', 'heartbeat', { v: marker }),
    }[p.where];
    const [before, after] = base.split(marker) as [string, string];
    await lane.step(textSend(Buffer.concat([Buffer.from(before), bad, Buffer.from(after)])));
  },
});

/** Lone surrogates as JSON escapes (valid UTF-8 text) in every field. */
const surrogates = kind({
  name: 'lone-surrogates',
  weight: 8,
  arb: fc.record({
    field: fc.constantFrom('topic', 'event', 'ref', 'joinRef', 'key', 'value', 'form', 'url', 'session'),
    esc: fc.constantFrom('\\ud800', '\\udfff', '\\udbff\\udbff', '\\ud83d', '\\ude00\\ud83d', '\\ud800\\u0000'),
    n: fc.nat(),
  }),
  async run(p, lane) {
    const S = '@@S@@';
    const joined = p.field === 'url' || p.field === 'session' ? undefined : await lane.anyJoined(p.n);
    const topic = joined?.topic ?? `lv:${lane.forgePage('/counter').id}`;
    const jr = joined?.joinRef ?? null;
    const ref = lane.ref();
    const click = { type: 'click', event: 'inc', value: {} };
    const fresh = lane.forgePage('/counter');
    const text = {
      topic: frame(jr, ref, `${topic}${S}`, 'event', click),
      event: frame(jr, ref, topic, `inc${S}`, click),
      ref: frame(jr, `${ref}${S}`, topic, 'event', click),
      joinRef: frame(`${jr ?? ''}${S}`, ref, topic, 'event', click),
      key: frame(jr, ref, topic, 'event', { ...click, value: { [`k${S}`]: 1 } }),
      value: frame(jr, ref, topic, 'event', { type: 'hook', event: `inc${S}`, value: { v: S } }),
      form: frame(jr, ref, topic, 'event', { type: 'form', event: 'validate', value: `user[name]=${S}`, meta: { _target: S } }),
      url: frame(ref, ref, `lv:${fresh.id}`, 'phx_join', { url: `${lane.base}/counter${S}`, session: fresh.session, static: fresh.static }),
      session: frame(ref, ref, `lv:${fresh.id}`, 'phx_join', { url: `${lane.base}/counter`, session: `${fresh.session}${S}`, static: fresh.static }),
    }[p.field].split(S).join(p.esc);
    await lane.step(textSend(text, p.field === 'url' || p.field === 'session' ? 'phx_join' : 'event'));
  },
});

/** Any topic, any event, any payload; sometimes without a ref. */
const unknown = kind({
  name: 'topic-event',
  weight: 20,
  arb: fc.record({ topic: topicPick, event: eventPick, jr: joinRefPick, noRef: fc.boolean(), n: fc.nat() }).chain((r) => payloadFor(r.event).map((payload) => ({ ...r, payload }))),
  async run(p, lane) {
    const { topic, joinRef } = await resolveTopic(p.topic, lane, p.n);
    const ref = p.noRef && p.n % 4 === 0 ? null : lane.ref();
    await lane.step(textSend(frame(resolveJoinRef(p.jr, joinRef), ref, topic, p.event, p.payload), p.event));
  },
});

/** Binary frames: truncated headers, unknown kinds, lying lengths, and valid pushes to every kind of topic. */
const binary = kind({
  name: 'binary',
  weight: 20,
  arb: fc.oneof(
    fc.record({ t: fc.constant('short' as const), bytes: fc.uint8Array({ maxLength: 4 }) }),
    fc.record({ t: fc.constant('kind' as const), kind: fc.integer({ min: 1, max: 255 }), rest: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ t: fc.constant('lying' as const), lens: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), have: fc.nat(300) }),
    fc.record({
      t: fc.constant('push' as const),
      jr: fc.constantFrom('current', 'empty', 'stale', 'bytes'),
      ref: fc.constantFrom('fresh', 'empty', 'bytes'),
      topic: fc.oneof(topicPick, fc.constantFrom<TopicPick>({ raw: '' })),
      event: fc.oneof(fc.constantFrom('chunk', 'phx_join', 'phx_leave', 'heartbeat', 'event', ''), nastyString),
      junk: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      payload: fc.nat(8192),
      n: fc.nat(),
    }),
  ),
  async run(p, lane) {
    let data: Buffer;
    if (p.t === 'short') data = Buffer.from(p.bytes);
    else if (p.t === 'kind') data = Buffer.concat([Buffer.from([p.kind]), Buffer.from(p.rest)]);
    else if (p.t === 'lying') {
      const total = p.lens.reduce((a, b) => a + b, 0);
      data = Buffer.concat([Buffer.from([0, ...p.lens]), Buffer.alloc(Math.min(p.have, Math.max(0, total - 1)), 0x61)]);
    } else {
      const { topic, joinRef } = await resolveTopic(p.topic, lane, p.n);
      const pick = (mode: string, fresh: string): Buffer =>
        mode === 'empty' ? Buffer.alloc(0) : mode === 'bytes' ? Buffer.from(p.junk) : mode === 'stale' ? Buffer.from('stale') : Buffer.from(fresh);
      const parts = [pick(p.jr, joinRef ?? ''), pick(p.ref, lane.ref()), Buffer.from(topic), Buffer.from(p.event)].map((b) => b.subarray(0, 255));
      data = Buffer.concat([Buffer.from([0, ...parts.map((b) => b.length)]), ...parts, Buffer.alloc(p.payload, 7)]);
    }
    await lane.step({ data, binary: true, ...expectBinary(data), ...(p.t === 'push' ? { event: p.event } : {}) });
  },
});

export const FRAME_KINDS: readonly Kind[] = [junkText, arity, types, huge, deep, utf8, surrogates, unknown, binary];
