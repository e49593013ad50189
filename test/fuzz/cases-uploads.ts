/**
 * Upload fuzz cases: the steps of the official client (change event,
 * allow_upload, lvu join, binary chunks, progress) with forged and tampered
 * tokens, hostile chunks, chunks on unjoined and foreign channels, and what
 * may follow (save, cancel, leave, rejoin).
 */
import fc from 'fast-check';
import { confRefOf } from '../support/upload-client.js';
import { anyValue } from './gen.js';
import { binaryPush, eventPick, expectBinary, kind, textSend, type Kind } from './cases.js';
import { frame } from './lane.js';
import type { Answer } from './fuzz-socket.js';
import { mutateToken, tokenData, tokenMut, TTL, type TokenMut } from './tamper.js';

const isOk = (a: Answer | undefined): boolean => a?.kind === 'reply' && a.status === 'ok';

const UPLOAD_ROUTES = ['/uploads/large', '/uploads/gallery', '/uploads/auto'] as const;

type UploadAction =
  | { a: 'token'; mut: TokenMut; topic: 'match' | 'other' | 'random' | 'lv' }
  | { a: 'chunks'; chunks: { size: number; ev: string; jr: 'current' | 'stale' | 'empty'; text: boolean }[]; then: 'none' | 'progress' | 'save' | 'cancel' | 'leave' | 'rejoinView' | 'chunkAfter' | 'rejoinUpload' }
  | { a: 'pool'; n: number }
  | { a: 'unjoined'; n: number; size: number }
  | { a: 'twice'; pipelined: boolean }
  | { a: 'progress'; values: unknown[] };

const chunkPlan = fc.record({
  size: fc.oneof({ weight: 12, arbitrary: fc.nat(16_384) }, { weight: 1, arbitrary: fc.constantFrom(0, 1024 * 1024, 1024 * 1024 + 1, 2 * 1024 * 1024) }),
  ev: fc.oneof({ weight: 8, arbitrary: fc.constant('chunk') }, { weight: 1, arbitrary: eventPick }),
  jr: fc.oneof({ weight: 8, arbitrary: fc.constant('current' as const) }, { weight: 1, arbitrary: fc.constantFrom('stale' as const, 'empty' as const) }),
  text: fc.nat(15).map((n) => n === 0),
});

const uploadAction: fc.Arbitrary<UploadAction> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ a: fc.constant('token' as const), mut: tokenMut, topic: fc.constantFrom('match' as const, 'match' as const, 'other' as const, 'random' as const, 'lv' as const) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      a: fc.constant('chunks' as const),
      chunks: fc.array(chunkPlan, { minLength: 1, maxLength: 6 }),
      then: fc.constantFrom('none' as const, 'progress' as const, 'save' as const, 'cancel' as const, 'leave' as const, 'rejoinView' as const, 'chunkAfter' as const, 'rejoinUpload' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('pool' as const), n: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('unjoined' as const), n: fc.nat(), size: fc.nat(4096) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('twice' as const), pipelined: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('progress' as const), values: fc.array(fc.oneof(fc.integer({ min: -10, max: 110 }), fc.record({ error: anyValue }), anyValue), { maxLength: 4 }) }) },
);

/** Uploads: forged and tampered tokens, hostile chunks, chunks on unjoined channels, and what follows. */
const upload = kind({
  name: 'upload',
  weight: 24,
  arb: fc.record({
    route: fc.constantFrom(...UPLOAD_ROUTES),
    files: fc.array(
      fc.record({
        size: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 40_000 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 53, 11 * 1024 * 1024) }),
        name: fc.constantFrom('a.png', 'b.jpg', 'c.txt', '../../d.png', 'e\u0000.gif', '.png'),
        type: fc.constantFrom('image/png', 'text/plain', '', 'application/octet-stream'),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    exact: fc.boolean(),
    action: uploadAction,
  }),
  async run(p, lane) {
    const page = lane.page(p.route);
    const view = await lane.join(page);
    if (!isOk(view.answer) || view.answer.kind !== 'reply') return;
    const lv = view.topic;
    const confRef = confRefOf(view.answer.response.rendered);
    const chunks = p.action.a === 'chunks' ? p.action.chunks : [];
    const accepted = chunks.filter((c) => c.ev === 'chunk' && c.jr === 'current' && !c.text && c.size <= 1024 * 1024);
    const entries = p.files.map((f, i) => ({
      path: 'files',
      ref: lane.ref(),
      name: f.name,
      relative_path: '',
      type: f.type,
      size: i === 0 && p.exact && accepted.length > 0 ? accepted.reduce((s, c) => s + c.size, 0) : f.size,
      last_modified: 1,
    }));
    const first = entries[0] as (typeof entries)[number];
    const lvPush = (event: string, payload: unknown, joinRef: string | null = view.joinRef) => {
      const ref = lane.ref();
      return { data: frame(joinRef, ref, lv, event, payload), ref, topic: lv, joinRef, event };
    };
    await lane.step(lvPush('event', { type: 'form', event: 'validate', value: '', meta: { _target: 'files' }, uploads: { [confRef]: entries } }));
    const pre = await lane.step(lvPush('allow_upload', { ref: confRef, entries }));
    const tokens = pre.kind === 'reply' && typeof pre.response.entries === 'object' && pre.response.entries !== null ? (pre.response.entries as Record<string, unknown>) : {};
    const pool = lane.shared.uploadTokens;
    for (const t of Object.values(tokens)) if (typeof t === 'string') pool[pool.length < 64 ? pool.length : Math.floor(Math.random() * 64)] = t;
    const signer = lane.shared.signer;
    const genuine = typeof tokens[first.ref] === 'string' ? (tokens[first.ref] as string) : undefined;
    const data = { v: page.id, n: 'not-the-nonce', c: confRef, e: first.ref };
    const token = genuine ?? signer.sign('upload', data, TTL);
    const upTopic = `lvu:${first.ref}`;
    const joinUpload = (t: unknown, topic = upTopic) => {
      const ref = lane.ref();
      return { data: frame(ref, ref, topic, 'phx_join', { token: t }), ref, topic, joinRef: ref, event: 'phx_join' };
    };
    const chunk = (joinRef: string, size: number, ev = 'chunk', topic = upTopic) => {
      const ref = lane.ref();
      const data = binaryPush(joinRef, ref, topic, ev, Buffer.alloc(size, 0x5a));
      return { data, binary: true, ...expectBinary(data), event: ev };
    };
    const act = p.action;
    switch (act.a) {
      case 'token': {
        const other = entries[1]?.ref ?? 'zz';
        const t = mutateToken(act.mut, token, 'upload', (tokenData(token) as Record<string, unknown>) ?? data, pool[0] ?? token, page.session, signer);
        const topic = { match: upTopic, other: `lvu:${other}`, random: `lvu:r${lane.ref()}`, lv }[act.topic];
        await lane.step(joinUpload(t, topic));
        return;
      }
      case 'pool': {
        const t = pool[act.n % Math.max(1, pool.length)] ?? token;
        const e = (tokenData(t) as { e?: unknown } | undefined)?.e;
        await lane.step(joinUpload(t, `lvu:${typeof e === 'string' ? e : first.ref}`));
        return;
      }
      case 'unjoined': {
        // Our own entry's channel before its join, a made-up one, or one another socket joined (with its join ref).
        const foreign = lane.shared.uploadTopics[act.n % Math.max(1, lane.shared.uploadTopics.length)];
        const target = act.n % 3 === 0 ? { topic: upTopic, joinRef: `j${act.n}` } : act.n % 3 === 1 || !foreign ? { topic: `lvu:${act.n}`, joinRef: `j${act.n}` } : foreign;
        await lane.step(chunk(target.joinRef, act.size, 'chunk', target.topic));
        return;
      }
      case 'twice': {
        const a = joinUpload(token);
        const b = joinUpload(token);
        if (act.pipelined) await lane.steps([a, b]);
        else {
          await lane.step(a);
          await lane.step(b);
        }
        return;
      }
      case 'progress':
        for (const v of act.values) await lane.step(lvPush('progress', { event: null, ref: confRef, entry_ref: first.ref, progress: v }));
        return;
      case 'chunks': {
        const j = joinUpload(token);
        const joined = isOk(await lane.step(j));
        if (joined) {
          const topics = lane.shared.uploadTopics;
          topics[topics.length < 64 ? topics.length : act.chunks.length % 64] = { topic: upTopic, joinRef: j.joinRef };
        }
        let sent = 0;
        for (const c of act.chunks) {
          const jr = c.jr === 'current' ? j.joinRef : c.jr === 'stale' ? 'stale' : '';
          if (c.text) await lane.step(textSend(frame(jr, lane.ref(), upTopic, 'chunk', { bytes: 'x'.repeat(c.size % 100) }), 'chunk'));
          else {
            const a = await lane.step(chunk(jr, c.size, c.ev));
            if (isOk(a)) sent += c.size;
            if (isOk(a) && sent === first.size) lane.shared.tally.count(lane.shared.tally.notes, 'uploads completed');
          }
          if (joined && first.size > 0 && Number.isSafeInteger(first.size)) {
            await lane.step(lvPush('progress', { event: null, ref: confRef, entry_ref: first.ref, progress: Math.floor((sent / first.size) * 100) }));
          }
        }
        switch (act.then) {
          case 'progress':
            await lane.step(lvPush('progress', { event: null, ref: confRef, entry_ref: first.ref, progress: 100 }));
            break;
          case 'save': {
            const saved = await lane.step(lvPush('event', { type: 'form', event: 'save', value: '' }));
            if (sent === first.size && isOk(saved)) lane.shared.tally.count(lane.shared.tally.notes, 'uploads saved');
            break;
          }
          case 'cancel':
            await lane.step(lvPush('event', { type: 'click', event: 'cancel', value: { ref: first.ref } }));
            await lane.step(chunk(j.joinRef, 10));
            break;
          case 'leave':
            await lane.step({ ...textSend(frame(j.joinRef, lane.ref(), upTopic, 'phx_leave', {}), 'phx_leave'), joinRef: j.joinRef });
            await lane.step(chunk(j.joinRef, 10));
            break;
          case 'rejoinView':
            await lane.join(page);
            await lane.step(chunk(j.joinRef, 10));
            break;
          case 'chunkAfter':
            await lane.step(chunk(j.joinRef, 10));
            break;
          case 'rejoinUpload':
            await lane.step(joinUpload(token));
            break;
          case 'none':
            break;
        }
        return;
      }
    }
  },
});

export const UPLOAD_KINDS: readonly Kind[] = [upload];
