/**
 * Channel-level fuzz cases: joins with tampered tokens and URLs, hostile
 * events on joined views, pushes before a join, join/leave/rejoin sequences
 * (some pipelined) and a channel flood. Uploads are in cases-uploads.ts.
 */
import fc from 'fast-check';
import { confRefOf } from '../support/upload-client.js';
import { anyValue, withConf } from './gen.js';
import { binaryPush, eventPick, expectBinary, joinRefPick, kind, payloadFor, resolveJoinRef, textSend, type JoinRefPick, type Kind } from './cases.js';
import { frame, ROUTES, type Lane, type PageTokens, type Route } from './lane.js';
import type { Answer } from './fuzz-socket.js';
import { mutateToken, tokenMut } from './tamper.js';
import { UPLOAD_KINDS } from './cases-uploads.js';

/**
 * Known bugs, each with a failing test in regressions.test.ts. Their
 * scenarios are generated only with INLET_FUZZ_KNOWN_BUGS=1, so that a run
 * keeps looking for new bugs instead of finding these again:
 * - frames pipelined behind a phx_leave, or behind a join that is refused,
 *   get no answer at all.
 */
export const WITH_KNOWN_BUGS = process.env.INLET_FUZZ_KNOWN_BUGS === '1';

const routePick = fc.constantFrom<Route>(...ROUTES);

function pageOf(lane: Lane, route: Route, fresh: boolean): PageTokens {
  return fresh ? lane.forgePage(route) : lane.page(route);
}

/** Another page, preferably of another lane or the sentinel (for swapped tokens). */
function otherPage(lane: Lane, n: number, not: PageTokens): PageTokens {
  const pages = lane.shared.pages;
  const p = pages[n % pages.length] as PageTokens;
  return p.id === not.id ? (pages[(n + 1) % pages.length] as PageTokens) : p;
}

const isOk = (a: Answer | undefined): boolean => a?.kind === 'reply' && a.status === 'ok';

// ---------------------------------------------------------------------- kinds

type UrlMut = 'ok' | 'otherRoute' | 'nomatch' | 'relative' | 'js' | 'foreignHost' | 'redirect' | 'missing' | 'garbage' | 'both' | { v: unknown };

/** Joins with tampered session and static tokens, URLs, params and join refs. */
const joinTamper = kind({
  name: 'join-tamper',
  weight: 28,
  arb: fc.record({
    route: routePick,
    fresh: fc.boolean(),
    topic: fc.constantFrom('own', 'own', 'own', 'other', 'random'),
    session: tokenMut,
    static: tokenMut,
    url: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom<UrlMut>('ok', 'ok', 'otherRoute', 'nomatch', 'relative', 'js', 'foreignHost', 'redirect', 'missing', 'garbage', 'both') },
      { weight: 1, arbitrary: anyValue.map((v): UrlMut => ({ v })) },
    ),
    params: fc.oneof({ weight: 3, arbitrary: fc.constant('ok') }, { weight: 1, arbitrary: anyValue }),
    extra: fc.dictionary(fc.constantFrom('flash', 'sticky', 'redirect', '__proto__', 'static', 'x'), anyValue, { maxKeys: 2 }),
    jr: fc.constantFrom('same', 'same', 'other', 'null'),
    n: fc.nat(),
  }),
  async run(p, lane) {
    const page = pageOf(lane, p.route, p.fresh);
    const other = otherPage(lane, p.n, page);
    const signer = lane.shared.signer;
    const session = mutateToken(p.session, page.session, 'session', { id: page.id, s: {} }, other.session, page.static, signer);
    const stat = mutateToken(p.static, page.static, 'static', { id: page.id }, other.static, page.session, signer);
    const path = page.route;
    const urls: Record<string, unknown> = {
      ok: lane.base + path,
      otherRoute: `${lane.base}${other.route}`,
      nomatch: `${lane.base}/nope/${p.n}`,
      relative: path,
      js: 'javascript:alert(1)//',
      foreignHost: `http://evil.example${path}`,
      garbage: '::::',
    };
    const payload: Record<string, unknown> = {
      params: p.params === 'ok' ? { _csrf_token: lane.csrf, _mounts: 0 } : p.params,
      ...(session !== undefined ? { session } : {}),
      ...(stat !== undefined ? { static: stat } : {}),
      ...p.extra,
    };
    if (typeof p.url === 'object') payload.url = p.url.v;
    else if (p.url === 'redirect') payload.redirect = lane.base + path;
    else if (p.url === 'both') Object.assign(payload, { url: `${lane.base}/nope`, redirect: lane.base + path });
    else if (p.url !== 'missing') payload.url = urls[p.url];
    const id = p.topic === 'own' ? page.id : p.topic === 'other' ? other.id : `phx-r${p.n}`;
    const topic = `lv:${id}`;
    const ref = lane.ref();
    const jr = p.jr === 'same' ? ref : p.jr === 'other' ? `${ref}j` : null;
    await lane.step({ ...textSend(frame(jr, ref, topic, 'phx_join', payload), 'phx_join'), joinRef: jr ?? ref });
  },
});

interface EventPlan {
  readonly event: string;
  readonly payload: unknown;
  readonly jr: JoinRefPick;
  readonly noRef: boolean;
}

const eventPlan: fc.Arbitrary<EventPlan> = fc
  .record({
    event: fc.oneof({ weight: 6, arbitrary: fc.constant('event') }, { weight: 3, arbitrary: eventPick }),
    jr: fc.oneof({ weight: 8, arbitrary: fc.constant<JoinRefPick>('current') }, { weight: 1, arbitrary: joinRefPick }),
    noRef: fc.nat(15).map((n) => n === 0),
  })
  .chain((r) => payloadFor(r.event).map((payload) => ({ ...r, payload })));

/** A genuine join, then hostile pushes on the joined view; sometimes pipelined behind the join. */
const joinedEvents = kind({
  name: 'joined-events',
  weight: 40,
  arb: fc.record({ route: routePick, fresh: fc.boolean(), events: fc.array(eventPlan, { minLength: 1, maxLength: 5 }), pipelined: fc.nat(9).map((n) => n === 0) }),
  async run(p, lane) {
    const page = pageOf(lane, p.route, p.fresh);
    const topic = `lv:${page.id}`;
    const sendsFor = (joinRef: string | null, confRef: string) =>
      p.events.map((e) => {
        const ref = e.noRef ? null : lane.ref();
        const jr = resolveJoinRef(e.jr, joinRef);
        const s = textSend(frame(jr, ref, topic, e.event, withConf(e.payload, confRef)), e.event);
        // The reply echoes a string join ref; for none, it depends on whether the channel still lives.
        return { ...s, topic, joinRef: typeof jr === 'string' ? jr : null };
      });
    if (p.pipelined && lane.csrfGood) {
      // A client that does not wait for the join reply; events queue behind the join.
      const ref = lane.ref();
      const join = {
        data: frame(ref, ref, topic, 'phx_join', { url: lane.base + page.route, params: { _csrf_token: lane.csrf, _mounts: 0 }, session: page.session, static: page.static }),
        ref,
        topic,
        joinRef: ref,
        event: 'phx_join',
      };
      const events = sendsFor(ref, 'phx-none');
      // Without the known bugs, only the first event rides behind the join (it may be a leave).
      const cut = WITH_KNOWN_BUGS ? events.length : 1;
      await lane.steps([join, ...events.slice(0, cut)]);
      for (const s of events.slice(cut)) await lane.step(s);
      return;
    }
    const { joinRef, answer } = await lane.join(page);
    let confRef = 'phx-none';
    if (isOk(answer) && answer.kind === 'reply') {
      try {
        confRef = confRefOf(answer.response.rendered);
      } catch {
        // a view without uploads
      }
    }
    for (const s of sendsFor(isOk(answer) ? joinRef : null, confRef)) await lane.step(s);
  },
});

/** Pushes of every kind to a view's topic before it is joined, then the same after a genuine join. */
const beforeJoin = kind({
  name: 'before-join',
  weight: 10,
  arb: fc.record({
    route: routePick,
    events: fc.array(fc.constantFrom('event', 'live_patch', 'allow_upload', 'progress', 'cids_destroyed', 'phx_leave', 'chunk'), { minLength: 1, maxLength: 4 }),
    jr: fc.constantFrom('page-id', 'null', 'guess'),
  }),
  async run(p, lane) {
    const page = lane.forgePage(p.route);
    const topic = `lv:${page.id}`;
    const sendAll = async (joinRef: string | null) => {
      for (const event of p.events) {
        const ref = lane.ref();
        if (event === 'chunk') {
          const data = binaryPush(joinRef ?? '', ref, topic, 'chunk', Buffer.alloc(64, 1));
          await lane.step({ data, binary: true, ...expectBinary(data), event });
        } else {
          const payload = event === 'event' ? { type: 'click', event: 'inc', value: {} } : event === 'live_patch' ? { url: lane.base + page.route } : {};
          await lane.step({ ...textSend(frame(joinRef, ref, topic, event, payload), event), joinRef });
        }
      }
    };
    await sendAll(p.jr === 'null' ? null : p.jr === 'guess' ? '1' : page.id);
    const { joinRef, answer } = await lane.join(page);
    await sendAll(isOk(answer) ? joinRef : null);
  },
});

type Op = 'join' | 'leave' | 'event' | 'rejoin' | 'doubleJoin' | 'joinLeave' | 'leaveStale' | 'eventNullJr' | 'eventStaleJr' | 'heartbeatJr' | 'joinOtherJr' | 'eventNoRef';

/** Join, leave and rejoin in every order, a few of them pipelined. */
const lifecycle = kind({
  name: 'lifecycle',
  weight: 16,
  arb: fc.record({
    route: fc.constantFrom<Route>('/counter', '/form', '/components', '/pages/one'),
    ops: fc.array(fc.constantFrom<Op>('join', 'leave', 'event', 'rejoin', 'doubleJoin', 'joinLeave', 'leaveStale', 'eventNullJr', 'eventStaleJr', 'heartbeatJr', 'joinOtherJr', 'eventNoRef'), { minLength: 1, maxLength: 8 }),
  }),
  async run(p, lane) {
    const page = lane.forgePage(p.route);
    const topic = `lv:${page.id}`;
    let jr: string | null = null;
    const joinSend = (joinRef?: string) => {
      const ref = lane.ref();
      const j = joinRef ?? ref;
      const payload = { url: lane.base + page.route, params: { _csrf_token: lane.csrf, _mounts: 0 }, session: page.session, static: page.static };
      return { data: frame(j, ref, topic, 'phx_join', payload), ref, topic, joinRef: j, event: 'phx_join' };
    };
    const push = (joinRef: string | null, event: string, payload: unknown, withRef = true) => {
      const ref = withRef ? lane.ref() : null;
      return { data: frame(joinRef, ref, topic, event, payload), ref, topic, joinRef, event };
    };
    const click = { type: 'click', event: 'inc', value: {} };
    for (const op of p.ops) {
      switch (op) {
        case 'join':
        case 'rejoin':
        case 'joinOtherJr': {
          const s = joinSend(op === 'joinOtherJr' ? `${lane.ref()}x` : undefined);
          if (isOk(await lane.step(s))) jr = s.joinRef;
          break;
        }
        case 'doubleJoin': {
          const a = joinSend();
          const b = joinSend();
          const [, second] = await lane.steps([a, b]);
          jr = isOk(second) ? b.joinRef : null;
          break;
        }
        case 'joinLeave': {
          const j = joinSend();
          await lane.steps([j, push(j.joinRef, 'phx_leave', {})]);
          jr = null;
          break;
        }
        case 'leave':
          await lane.step(push(jr, 'phx_leave', {}));
          jr = null;
          break;
        case 'leaveStale':
          await lane.step(push('stale', 'phx_leave', {}));
          break;
        case 'event':
          await lane.step(push(jr, 'event', click));
          break;
        case 'eventNullJr':
          await lane.step(push(null, 'event', click));
          break;
        case 'eventStaleJr':
          await lane.step(push('stale', 'event', click));
          break;
        case 'eventNoRef':
          await lane.step(push(jr, 'event', click, false));
          break;
        case 'heartbeatJr':
          await lane.step({ data: frame(jr ?? 'x', lane.ref(), 'phoenix', 'heartbeat', {}), ref: null, topic: 'phoenix' });
          break;
      }
    }
  },
});

/** More joins than the channel limit, pipelined; the server must answer all and refuse past 100. */
const flood = kind({
  name: 'channel-flood',
  weight: 1,
  arb: fc.record({ n: fc.integer({ min: 90, max: 130 }), route: fc.constantFrom<Route>('/pages/two', '/counter') }),
  async run(p, lane) {
    await lane.reconnect();
    const sends = Array.from({ length: p.n }, () => {
      const page = lane.forgePage(p.route);
      const ref = lane.ref();
      const topic = `lv:${page.id}`;
      const payload = { url: lane.base + page.route, params: { _csrf_token: lane.csrf }, session: page.session, static: page.static };
      return { data: frame(ref, ref, topic, 'phx_join', payload), ref, topic, joinRef: ref, event: 'phx_join' };
    });
    const answers = await lane.steps(sends);
    const ok = answers.filter(isOk).length;
    lane.require(ok <= 100, `${ok} channels joined on one socket (limit 100)`);
    if (lane.csrfGood) lane.require(ok === Math.min(p.n, 100), `${ok} of ${p.n} genuine joins succeeded (expected ${Math.min(p.n, 100)})`);
    await lane.reconnect();
  },
});

export const CHANNEL_KINDS: readonly Kind[] = [joinTamper, joinedEvents, beforeJoin, lifecycle, flood, ...UPLOAD_KINDS];
