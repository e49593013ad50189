// The LiveViewJS 0.8.1 reference, through the team's harness in
// ../shared/bench/liveviewjs relative to the repository (run unmodified from its folder, with BENCH_DIR
// outside the repository). setup.sh installs the packages there; bench-nocdp.js
// and bench-upload.js each start their own LiveViewJS server (at its defaults:
// 64 KiB chunks) and upload $BENCH_DIR/data/rand-<n>MiB.bin, the same files
// run.mjs uses for Inlet.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib.mjs';

export const LVJS_SCRIPTS = process.env.LVJS_SCRIPTS ?? fileURLToPath(new URL('../../../shared/bench/liveviewjs', import.meta.url));

function run(cmd, args, { env, logFile, timeoutMs }) {
  return new Promise((resolve) => {
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd: LVJS_SCRIPTS, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      setTimeout(() => log.end(() => resolve(code)), 50);
    });
  });
}

export async function lvjsSetup(benchDir, logFile) {
  if (!existsSync(join(LVJS_SCRIPTS, 'setup.sh'))) return `no harness at ${LVJS_SCRIPTS}`;
  const code = await run('bash', ['setup.sh'], { env: { BENCH_DIR: benchDir }, logFile, timeoutMs: 600000 });
  return code === 0 ? null : `setup.sh exited ${code} (see ${logFile})`;
}

/**
 * One invocation of the harness: `kind` 'nocdp' (bench-nocdp.js) or
 * 'playwright' (bench-upload.js), one run per size. Returns
 * { [mib]: { totalMs, mibps, shaOk, peakRssMiB? } } or { error }.
 */
export async function lvjsRun(kind, sizes, benchDir, logFile) {
  const script = kind === 'nocdp' ? 'bench-nocdp.js' : 'bench-upload.js';
  const resultFile = join(benchDir, kind === 'nocdp' ? 'results-nocdp.json' : 'results-upload.json');
  const before = existsSync(resultFile) ? readFileSync(resultFile, 'utf8') : null;
  const port = await freePort();
  const code = await run(process.execPath, [script, '--sizes', sizes.join(','), '--runs', '1', '--concurrent', '0'], {
    env: { BENCH_DIR: benchDir, PORT: String(port) },
    logFile,
    timeoutMs: 900000,
  });
  if (code !== 0) return { error: `${script} exited ${code} (see ${logFile})` };
  const text = readFileSync(resultFile, 'utf8');
  if (text === before) return { error: `${script} wrote no new results` };
  const res = JSON.parse(text);
  const out = {};
  for (const mib of sizes) {
    const r = res.sizes?.[mib]?.runs?.[0];
    if (!r) continue;
    out[mib] = { totalMs: r.totalMs, mibps: r.MiBps, shaOk: r.shaOk === true, peakRssMiB: r.peakRssMiB ?? null };
  }
  return out;
}

/** Versions the harness installed. */
export function lvjsVersions(benchDir) {
  const v = (name) => {
    try {
      return JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  return { liveviewjs: v('liveviewjs'), express: v('@liveviewjs/express'), client: v('phoenix_live_view') };
}
