/**
 * Property-based protocol fuzzing against a real Inlet server (the example
 * app) running in a child process.
 *
 *   fast (~2,000 cases, 4 sockets):  npx vitest run test/fuzz/protocol.fuzz.test.ts
 *   long (100,000 cases, 8 sockets): INLET_LONG=1 npx vitest run test/fuzz/protocol.fuzz.test.ts
 *
 * Knobs: INLET_FUZZ_CASES, INLET_FUZZ_LANES (parallel sockets), INLET_FUZZ_SEED
 * (replay), INLET_FUZZ_TIMEOUT_MS (default 2000, plus 1 ms per 4 KiB sent
 * and 20 ms per pipelined frame), INLET_FUZZ_SHRINK=1 (shrink
 * a failing case; off by default because a silent case costs a timeout per
 * shrink step), INLET_FUZZ_KNOWN_BUGS=1 (also generate the scenarios of the
 * known bugs listed at WITH_KNOWN_BUGS in cases-channels.ts, whose failing
 * tests are in regressions.test.ts), INLET_FUZZ_SAMPLES=1 (print what the
 * server logged with stacks).
 *
 * Oracle, for every frame of every case: the server answers with a reply (ok
 * or error), a phx_error or phx_close of the channel, or closes the socket
 * with a documented code, within the timeout; never silence. Frames without a
 * ref are followed by a heartbeat whose reply proves the server listens.
 * Every server frame must be a well-formed V2 frame. Meanwhile a sentinel on
 * its own socket keeps a /counter view joined and clicks it every
 * SENTINEL_EVERY cases: every click must get its diff. At the end the server
 * process must still be running and serving pages, no prototype may be
 * polluted, and no upload temp file may outlive the sockets.
 *
 * Layout: server.mjs (the child: example app + /__fuzz/stats) runs on the
 * TypeScript sources through register-ts.mjs/ts-hooks.mjs, with vitest's
 * aliases, so it never tests a stale packages/core/dist; child.ts starts
 * it; lane.ts (one socket, the oracle per frame) and fuzz-socket.ts (raw
 * frames, answer matching); the case kinds in cases.ts (frames),
 * cases-channels.ts (joins, events, lifecycle, flood), cases-uploads.ts and
 * tamper.ts; gen.ts (shared arbitraries); tally.ts (the figures).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../packages/core/src/live/tokens.js';
import { fetchPage, PhoenixClient } from '../support/phoenix-ws.js';
import { FRAME_KINDS, type Kind } from './cases.js';
import { CHANNEL_KINDS } from './cases-channels.js';
import { startChildServer, type ChildServer, type ServerStats } from './child.js';
import { CaseOver, Lane, type Shared } from './lane.js';
import { inline, mib, table, Tally } from './tally.js';

const env = process.env;
const LONG = env.INLET_LONG === '1';
const CASES = Number(env.INLET_FUZZ_CASES ?? (LONG ? 100_000 : 2_000));
const LANES = Number(env.INLET_FUZZ_LANES ?? (LONG ? 8 : 4));
const SEED = Number(env.INLET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TIMEOUT_MS = Number(env.INLET_FUZZ_TIMEOUT_MS ?? 2000);
const SHRINK = env.INLET_FUZZ_SHRINK === '1';
const SENTINEL_EVERY = LONG ? 250 : 50;
/** Cases a lane runs on one socket before opening a new one (sockets also end when the server closes them). */
const CASES_PER_SOCKET = 60;
/** Largest server RSS accepted at the end, after garbage collection. */
const MAX_RSS = 768 * 1024 * 1024;
const SECRET = 'protocol-fuzz-secret-0123456789abcdef';
/** Error reasons docs/errors.md lists; others are reported (not failed) as undocumented. */
/** Every reason docs/errors.md names (in backticks): a reason the fuzz meets that is not there is reported. */
const DOCUMENTED_REASONS = new Set([...readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));

const KINDS: readonly Kind[] = [...FRAME_KINDS, ...CHANNEL_KINDS];
const BY_NAME = new Map(KINDS.map((k) => [k.name, k]));
const planArb = fc.oneof(...KINDS.map((k) => ({ weight: k.weight, arbitrary: k.arb.map((p) => ({ kind: k.name, p })) })));

let root: string;
let server: ChildServer;
let sentinel: PhoenixClient;
let sentinelTopic: string;
let sentinelJoinRef: string;
let sentinelCount = 0;
let casesDone = 0;
const tally = new Tally();

/** Clicks the sentinel's counter; the reply must carry the new count. */
async function click(): Promise<void> {
  tally.sentinelClicks++;
  const ref = sentinel.nextRef();
  const expected = String(++sentinelCount);
  try {
    const reply = sentinel.waitFor((f) => f[1] === ref && f[3] === 'phx_reply', TIMEOUT_MS);
    sentinel.sendRaw(JSON.stringify([sentinelJoinRef, ref, sentinelTopic, 'event', { type: 'click', event: 'inc', value: { value: '' } }]));
    const payload = (await reply)[4] as { status: string; response: { diff?: unknown } };
    if (payload.status !== 'ok' || !JSON.stringify(payload.response.diff ?? null).includes(`"${expected}"`)) {
      throw new Error(`reply ${JSON.stringify(payload).slice(0, 300)}`);
    }
    tally.sentinelOk++;
  } catch (e) {
    const message = `SENTINEL: click ${tally.sentinelClicks} (count ${expected}) failed: ${e instanceof Error ? e.message : String(e)}`;
    tally.fail(message);
    throw new Error(message);
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    n += e.isDirectory() ? await countFiles(join(dir, e.name)) : 1;
  }
  return n;
}

function report(seconds: number, before: ServerStats | undefined, after: ServerStats | undefined, leftoverTmp: number | undefined): void {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const rows: [string, string | number][] = [
    ['profile', `${LONG ? 'long' : 'fast'}: ${fmt(CASES)} cases on ${LANES} sockets, seed ${SEED}, timeout ${TIMEOUT_MS} ms`],
    ['cases run', `${fmt(tally.cases)} in ${seconds.toFixed(1)} s (${fmt(Math.round(tally.cases / seconds))}/s), ${fmt(tally.steps)} frames answered, ${mib(tally.bytesSent)} sent, ${fmt(tally.reconnects)} sockets`],
    ['cases by kind', inline(tally.casesByKind)],
    ['outcomes', inline(tally.outcomes)],
    ['error reasons', inline(new Map([...tally.reasons].slice(0, 40)))],
    ['undocumented reasons', [...tally.reasons.keys()].filter((r) => !DOCUMENTED_REASONS.has(r) && !r.includes('redirect')).join(', ') || 'none'],
    ['milestones', inline(tally.notes)],
    ['latency', `p50 ${tally.percentile(50)} ms, p99 ${tally.percentile(99)} ms, max ${tally.maxMs} ms`],
    ['max latency by kind', inline(tally.maxMsByKind)],
    ['failures', tally.failures.length],
    ['server crashes', server?.exited() ? `1 (${JSON.stringify(server.exited())})` : 0],
    ['sentinel clicks OK', `${tally.sentinelOk} / ${tally.sentinelClicks}`],
  ];
  if (before && after) {
    rows.push(['server RSS', `${mib(before.rss)} at start, ${mib(after.rss)} at end after GC (heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)})`]);
    rows.push(['server errors logged', `${inline(after.thrownIn)}  (where thrown)`]);
    rows.push(['server log kinds', inline(after.logs) || 'none']);
    rows.push(['prototype pollution', after.polluted.length === 0 ? 'none' : after.polluted.join(', ')]);
  }
  if (leftoverTmp !== undefined) rows.push(['upload temp files left', leftoverTmp]);
  console.log(`\n${table('protocol fuzz', rows)}\n`);
  for (const f of tally.failures.slice(0, 10)) console.log(`FAILURE ${f}\n`);
  if (env.INLET_FUZZ_SAMPLES === '1') for (const s of after?.samples ?? []) if (s.error) console.log(`SERVER LOG (${s.where}) ${s.message}\n${s.error}\n`);
}

describe('protocol fuzz (child-process server)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'inlet-fuzz-'));
    server = await startChildServer({ secret: SECRET, storeRoot: join(root, 'store'), uploadTmpDir: join(root, 'tmp') });
    const page = await fetchPage(server.url, '/counter');
    sentinel = await PhoenixClient.connect(server.url, page);
    const joined = await sentinel.joinView(server.url, page, '/counter');
    expect(joined.reply.status).toBe('ok');
    sentinelTopic = joined.topic;
    sentinelJoinRef = joined.joinRef;
  });

  afterAll(async () => {
    sentinel?.close();
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(
    'answers every hostile frame (reply, phx_error, or close) and keeps serving',
    async () => {
      const started = Date.now();
      const before = await server.stats(true);
      const shared: Shared = {
        base: server.url,
        signer: new Signer(SECRET),
        timeoutMs: TIMEOUT_MS,
        tally,
        pages: [],
        uploadTokens: [],
        uploadTopics: [],
        fatal: () => {
          const exit = server.exited();
          return exit ? `the server process exited: ${JSON.stringify(exit)}\n${server.stderrTail()}` : undefined;
        },
      };
      const lanes = Array.from({ length: LANES }, (_, i) => new Lane(i, shared));
      for (const lane of lanes) await lane.init();
      const shares = lanes.map((_, i) => Math.floor(CASES / LANES) + (i < CASES % LANES ? 1 : 0));

      const results = await Promise.allSettled(
        lanes.map((lane, i) =>
          fc.assert(
            fc.asyncProperty(planArb, async ({ kind, p }) => {
              await lane.begin(kind, p, CASES_PER_SOCKET);
              tally.cases++;
              tally.count(tally.casesByKind, kind);
              try {
                await (BY_NAME.get(kind) as Kind).run(p, lane);
              } catch (e) {
                if (!(e instanceof CaseOver)) throw e;
              }
              if (++casesDone % SENTINEL_EVERY === 0) await click();
            }),
            { numRuns: shares[i], seed: SEED + i, endOnFailure: !SHRINK },
          ),
        ),
      );
      await click();
      for (const lane of lanes) lane.close();

      // Every view ended with its socket: no upload temp file may remain.
      let leftover = await countFiles(join(root, 'tmp'));
      for (let i = 0; i < 50 && leftover > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        leftover = await countFiles(join(root, 'tmp'));
      }
      const after = await server.stats(true);
      const page = await fetch(`${server.url}/counter`);
      const html = await page.text();
      report((Date.now() - started) / 1000, before, after, leftover);

      const errors = results.flatMap((r) => {
        if (r.status !== 'rejected') return [];
        const e = r.reason as { message?: string; cause?: unknown };
        const cause = e.cause instanceof Error ? `\nGot error: ${e.cause.stack ?? e.cause.message}` : '';
        return [`${e.message ?? String(r.reason)}${cause}`];
      });
      // fast-check's message: the counterexample first, the error last; keep both ends.
      expect(errors.map((m) => (m.length > 6000 ? `${m.slice(0, 2500)}\n…\n${m.slice(-3500)}` : m))).toEqual([]);
      expect(tally.failures).toEqual([]);
      // Every reason a client can be sent is one a user can look up.
      expect([...tally.reasons.keys()].filter((r) => !DOCUMENTED_REASONS.has(r) && !r.includes('redirect'))).toEqual([]);
      expect(server.exited()).toBeUndefined();
      expect(page.status).toBe(200);
      expect(html).toContain('data-phx-main');
      expect(tally.sentinelOk).toBe(tally.sentinelClicks);
      expect(after.polluted).toEqual([]);
      expect(after.rss).toBeLessThan(MAX_RSS);
      expect(leftover).toBe(0);
      expect(tally.cases).toBeGreaterThanOrEqual(CASES);
    },
    LONG ? 3 * 60 * 60_000 : 300_000,
  );
});
