/**
 * Shared setup of the upload abuse suites (test/abuse/uploads-*.abuse.test.ts):
 * the seeded random choices, the fast/long profile, one example server per
 * file with its store and temp folders, and the checks every file ends with:
 * nothing written outside those folders, no temp file left once the views
 * end. Each file prints its figures at the end.
 *
 *   fast:  npx vitest run test/abuse
 *   long:  INLET_LONG=1 npx vitest run test/abuse
 *
 * Knobs: INLET_ABUSE_SEED (replay the random choices).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, expect } from 'vitest';
import { exampleOptions } from '../../examples/app.js';
import { count, describe, eventually, filesOutside, inline, LiveClient, LONG, mib, prng, rss, table, walk, type Reply } from '../faults/support.js';

export const SEED = Number(process.env.INLET_ABUSE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const rand = prng(SEED);
export const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
export const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

export const P = LONG
  ? { tokens: 3000, sizeLies: 200, floodMiB: 256, floodParallel: 4, parallelMiB: 64, tinyChunks: 100_000, tinyRounds: 5, bigChanges: 200, channelRounds: 20, nameRounds: 3 }
  : { tokens: 300, sizeLies: 20, floodMiB: 48, floodParallel: 3, parallelMiB: 12, tinyChunks: 50_000, tinyRounds: 1, bigChanges: 12, channelRounds: 2, nameRounds: 1 };

/** Per-test time limit: the long profile runs for minutes. */
export const T = LONG ? 3_600_000 : 120_000;
export const SECRET = 'uploads-abuse-secret-0123456789abcdef';
export const MiB = 1024 * 1024;

type Routes = Parameters<typeof createServer>[0]['routes'];

/** What a file's tests share: the folders, the server, the fault view's records and the printed figures. */
export interface Abuse {
  root: string;
  store: string;
  tmp: string;
  server: InletServer;
  readonly records: { ok: boolean; name: string; ref: string }[];
  readonly figures: [string, string | number][];
}

const logged = new Map<string, number>();
const clients: LiveClient[] = [];
const rssStart = rss();
export const abuse: Abuse = { root: '', store: '', tmp: '', server: undefined as unknown as InletServer, records: [], figures: [] };

/** Opens a page on the file's server (or on `base`); closed at the end if the test did not. */
export async function open(path: string, base = abuse.server.url): Promise<LiveClient> {
  const c = await LiveClient.open(base, path);
  clients.push(c);
  return c;
}

export interface Preflighted {
  entries: Record<string, unknown>[];
  refs: string[];
  tokens: Record<string, string>;
  chunkSize: number;
  reply: Reply;
}

/** Sends the change event for `files`, then the preflight; returns the refs, tokens and chunk size. */
export async function preflight(c: LiveClient, files: { name: string; size: number }[]): Promise<Preflighted> {
  const entries = files.map((f) => describe(f.name, f.size));
  const changed = await c.change(entries);
  expect(changed.status).toBe('ok');
  const reply = await c.preflight(entries);
  const response = reply.response as { entries?: Record<string, string>; config?: { chunk_size: number } };
  return { entries, refs: entries.map((e) => e.ref as string), tokens: response.entries ?? {}, chunkSize: response.config?.chunk_size ?? 0, reply };
}

/**
 * Starts the example server (plus `routes`) on port 0 before the file's
 * tests, and after them checks that every temp file went and nothing was
 * written outside the store and temp folders, then prints the figures.
 */
export function useAbuseServer(routes?: (a: Abuse) => Routes): void {
  beforeAll(async () => {
    abuse.root = await mkdtemp(join(tmpdir(), 'inlet-abuse-'));
    abuse.store = join(abuse.root, 'store');
    abuse.tmp = join(abuse.root, 'tmp');
    await mkdir(join(abuse.tmp, 'writers'), { recursive: true });
    const options = exampleOptions({ storeRoot: abuse.store, uploadTmpDir: abuse.tmp, secret: SECRET, log: (m: string) => count(logged, String(m).replace(/lvu?:\S+|phx-[\w-]+|\d+/g, 'N').slice(0, 80)) });
    abuse.server = createServer({ ...options, routes: { ...options.routes, ...routes?.(abuse) } });
    await abuse.server.listen(0);
  });

  afterAll(async () => {
    const { root, store, tmp, figures } = abuse;
    for (const c of clients) if (!c.closed) c.close();
    // Every view has ended: its temp files must go.
    let left: string[] = [];
    try {
      await eventually(async () => (left = await walk(tmp)).length === 0, 15_000, 'temp files removed after the views ended');
    } finally {
      await abuse.server.close();
      const outside = await filesOutside(root, [store, tmp, join(root, 'child-store'), join(root, 'child-tmp')]);
      figures.push(['temp files left after views ended', left.length]);
      figures.push(['files outside store/tmp folders', outside.length]);
      figures.push(['runner RSS before → after', `${mib(rssStart)} → ${mib(rss())}`]);
      figures.push(['server log lines', inline(logged)]);
      figures.push(['seed', SEED]);
      console.log(table(`upload abuse (${LONG ? 'long' : 'fast'} profile)`, figures));
      await rm(root, { recursive: true, force: true });
      expect(left).toEqual([]);
      expect(outside).toEqual([]);
    }
  });
}
