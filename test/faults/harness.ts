/**
 * Shared setup of the upload fault suites (test/faults/uploads-*.faults.test.ts):
 * the seeded random choices, the fast/long profile, the servers of a file (an
 * example server with the fault views and a faulty chunk receiver; on request
 * two more on full disks), the tallies every file prints, and the oracles
 * every file ends with.
 *
 *   fast (~50 faults):    npx vitest run test/faults
 *   long (≥1,000 faults): INLET_LONG=1 npx vitest run test/faults
 *
 * Knobs: INLET_FAULTS_SEED (replay), INLET_FAULTS_N (random faults), INLET_FAULTS_VERBOSE=1 (server log samples),
 * INLET_FAULTS_KILLS (server kills).
 *
 * Oracles: every file an app consumes is byte-exact (the fault view hashes
 * what it stored against the sha256 in the file's name; example saves are
 * checked against their sources; the store is walked at the end); each
 * affected entry shows an error in the rendered HTML or is gone; no temp
 * file is left once the views end.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, expect } from 'vitest';
import { exampleOptions } from '../../examples/app.js';
import { FaultyStore } from './faulty-store.js';
import { count, describe, eventually, inline, LiveClient, LONG, mib, prng, rss, sha, table, walk } from './support.js';
// A plain JS module, shared with the child server.
import { createFaultView } from './views.mjs';

const env = process.env;
export const SEED = Number(env.INLET_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
export const rand = prng(SEED);
export const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
export const FAULTS = Number(env.INLET_FAULTS_N ?? (LONG ? 1100 : 46));
export const KILLS = Number(env.INLET_FAULTS_KILLS ?? (LONG ? 25 : 2));
/** Per-test time limit: the long profile runs for minutes. */
export const T = LONG ? 3_600_000 : 120_000;
export const SECRET = 'uploads-faults-secret-0123456789abcdef';
export const KiB = 1024;
export const MiB = 1024 * 1024;

/** One fault, run by the random-fault loop: `i` is its number. */
export type Kind = (i: number) => Promise<void>;

export interface Record_ {
  ok: boolean;
  name: string;
  ref: string;
}

type Routes = Parameters<typeof createServer>[0]['routes'];

/** The servers on full disks: an 8 MiB tmpfs as the temp folder of one, as the store of the other. */
export interface FullDisks {
  tmpServer: InletServer;
  storeServer: InletServer;
  tmpDir: string;
  storeDir: string;
  mounted: boolean;
  note: string;
}

/** The folders and servers of a file, set before its tests run. */
export const faults = { root: '', store: '', tmp: '', main: undefined as unknown as InletServer, full: undefined as FullDisks | undefined };
export const records: Record_[] = [];
export const counters = { injected: 0 };
const logged = new Map<string, number>();
export const injected = new Map<string, number>();
export const outcomes = new Map<string, number>();
export const visible = { shown: 0, gone: 0, missing: [] as string[] };
/** sha256 of every file a client sent, for checking the store at the end. */
export const sources = new Set<string>();
export const figures: [string, string | number][] = [];
export const clients: LiveClient[] = [];
const rssStart = rss();
const logSamples = new Map<string, string>();
const log = (m: string, e?: unknown): void => {
  const kind = String(m).replace(/lvu?:\S+|phx-[\w-]+|\d+/g, 'N').slice(0, 80);
  count(logged, kind);
  if (!logSamples.has(kind)) logSamples.set(kind, `${m}: ${e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e)}`);
};


export function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export function umount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
}

/** Opens a page on `base`; terminated at the end if the test did not close it. */
export async function open(base: string, path: string): Promise<LiveClient> {
  const c = await LiveClient.open(base, path);
  // Long runs open thousands of pages: forget the closed ones.
  if (clients.length > 200) clients.splice(0, clients.length, ...clients.filter((x) => !x.closed));
  clients.push(c);
  return c;
}

/** A file for the fault view: its name carries its sha256 and a writer directive. */
export function faultFile(size: number, directive = 'ok'): { content: Buffer; name: string; sha: string } {
  const content = randomBytes(size);
  const h = sha(content);
  sources.add(h);
  return { content, name: `${h}.${directive}.bin`, sha: h };
}

export async function preflight(c: LiveClient, files: { name: string; size: number; type?: string }[]) {
  const entries = files.map((f) => describe(f.name, f.size, f.type));
  await c.change(entries);
  const reply = await c.preflight(entries);
  const response = reply.response as { entries?: Record<string, unknown>; config?: { chunk_size: number } };
  return { entries, refs: entries.map((e) => e.ref as string), tokens: response.entries ?? {}, chunkSize: response.config?.chunk_size ?? 0, reply };
}

/** Waits for the entry to show an error, or to be gone; records which. */
export async function expectVisibleFailure(c: LiveClient, ref: string, what: string): Promise<void> {
  try {
    await eventually(() => {
      const block = c.entryHtml(ref);
      return block === undefined || /class="error"/.test(block);
    }, 5000, `${what}: error shown or entry gone`);
    if (c.entryHtml(ref) === undefined) visible.gone++;
    else visible.shown++;
  } catch {
    visible.missing.push(`${what}: ${c.entryHtml(ref)?.slice(0, 200)}`);
  }
}

/** Waits for the fault view to report the consumed file `name` (byte-exact or not). */
export async function consumed(name: string, ms = 10_000): Promise<Record_> {
  let found: Record_ | undefined;
  await eventually(() => (found = records.find((r) => r.name === name)) !== undefined, ms, `consumed ${name.slice(0, 12)}…`);
  return found as Record_;
}


/**
 * Starts the file's servers on port 0 before its tests: the example server
 * with the fault views (/faulty, /faulty-default) and a faulty chunk receiver,
 * plus `routes`; with `diskFull`, the two servers on full disks too. After
 * the tests: the oracles above, and the figures printed.
 */
export function useFaultServers(options: { diskFull?: boolean; routes?: (f: typeof faults) => Routes } = {}): void {
  beforeAll(async () => {
    const root = (faults.root = await mkdtemp(join(tmpdir(), 'inlet-faults-')));
    const store = (faults.store = join(root, 'store'));
    const tmp = (faults.tmp = join(root, 'tmp'));
    const o = exampleOptions({ storeRoot: store, uploadTmpDir: tmp, secret: SECRET, log, receiver: { store: new FaultyStore(join(tmp, 'receiver'), injected) } });
    faults.main = createServer({
      ...o,
      routes: {
        ...o.routes,
        '/faulty': createFaultView({ dir: join(store, 'faulty'), writerDir: join(tmp, 'writers'), records, counters }),
        '/faulty-default': createFaultView({ dir: join(store, 'faulty-default'), records, counters }),
        ...options.routes?.(faults),
      },
    });
    await faults.main.listen(0);
    if (!options.diskFull) return;

    // Disk full: an 8 MiB tmpfs as the temp folder of one server, and as the store of another.
    const tmpDir = join(root, 'full-tmp');
    const storeDir = join(root, 'full-store');
    await mkdir(tmpDir, { recursive: true });
    await mkdir(storeDir, { recursive: true });
    const mounted = mountTmpfs(tmpDir, '8m') && mountTmpfs(storeDir, '8m');
    const a = exampleOptions({ storeRoot: join(store, 'from-full-tmp'), uploadTmpDir: tmpDir, secret: SECRET, log });
    const tmpServer = createServer({
      ...a,
      routes: {
        ...a.routes,
        '/big': createFaultView({ dir: join(store, 'from-full-tmp'), records, counters, chunkSize: MiB }),
        // Without tmpfs: a writer that throws ENOSPC at a chunk stands in.
        '/big-simulated': createFaultView({ dir: join(store, 'from-full-tmp'), writerDir: join(tmp, 'writers'), records, counters, chunkSize: MiB }),
      },
    });
    const b = exampleOptions({ storeRoot: storeDir, uploadTmpDir: join(tmp, 'c'), secret: SECRET, log });
    const storeServer = createServer(b);
    await tmpServer.listen(0);
    await storeServer.listen(0);
    faults.full = { tmpServer, storeServer, tmpDir, storeDir, mounted, note: mounted ? 'tmpfs 8 MiB (mounted)' : 'NOT mounted: a writer throwing ENOSPC stands in; store-full skipped' };
  });

  afterAll(async () => {
    const { root, store, tmp, main, full } = faults;
    for (const c of clients) if (!c.closed) c.terminate();
    const folders = [tmp, full?.tmpDir ?? '', join(root, 'child-tmp')].filter(Boolean);
    let left: string[] = [];
    try {
      await eventually(async () => (left = (await Promise.all(folders.map(walk))).flat()).length === 0, 15_000, 'temp files removed after the views ended');
    } catch {
      // reported below
    }
    await main.close();
    await full?.tmpServer.close();
    await full?.storeServer.close();
    // The store: every fault-view file is named after its content; every other file is one a client sent.
    const corrupted: string[] = [];
    let partials = 0;
    for (const path of await walk(store).then(async (a) => [...a, ...(await walk(join(root, 'child-store'))), ...(full ? await walk(full.storeDir) : [])])) {
      // moveInto's hidden partial copy, left when a kill lands mid-copy: never under a final name.
      if (/^\.inlet-[0-9a-f]{16}\.part$/.test(basename(path))) {
        partials++;
        continue;
      }
      const h = sha(await readFile(path));
      const named = /^([0-9a-f]{64})\./.exec(basename(path))?.[1];
      if (named ? h !== named : !sources.has(h)) corrupted.push(`${path} (${h.slice(0, 12)})`);
    }
    const bad = records.filter((r) => !r.ok);
    figures.push(['faults injected', `${[...injected.values()].reduce((a, b) => a + b, 0)}  (${inline(injected)})`]);
    figures.push(['outcomes', inline(outcomes)]);
    figures.push(['consumed files byte-exact / corrupted', `${records.length - bad.length} / ${bad.length}`]);
    figures.push(['store files not matching a source', corrupted.length]);
    figures.push(['hidden partial copies left by kills (not presented)', partials]);
    figures.push(['affected entries: error shown / gone / neither', `${visible.shown} / ${visible.gone} / ${visible.missing.length}`]);
    figures.push(['temp files left after views ended', left.length]);
    figures.push(['disk full', full?.note ?? '-']);
    figures.push(['runner RSS before → after', `${mib(rssStart)} → ${mib(rss())}`]);
    figures.push(['server log lines', inline(logged)]);
    figures.push(['seed', SEED]);
    console.log(table(`upload faults (${LONG ? 'long' : 'fast'} profile)`, figures));
    if (process.env.INLET_FAULTS_VERBOSE === '1') console.log([...logSamples.values()].join('\n'));
    if (visible.missing.length) console.log(visible.missing.slice(0, 10).join('\n'));
    if (corrupted.length) console.log(corrupted.slice(0, 10).join('\n'));
    if (left.length) console.log(left.slice(0, 10).join('\n'));
    if (full) {
      umount(full.tmpDir);
      umount(full.storeDir);
    }
    await rm(root, { recursive: true, force: true });
    expect(bad).toEqual([]);
    expect(corrupted).toEqual([]);
    expect(visible.missing).toEqual([]);
    expect(left).toEqual([]);
  });
}
