// Shared helpers for the upload benchmark: data files and their hashes, /proc
// memory sampling, starting the Inlet bench server (server.mjs) as a child
// process and reading its stdout protocol, small statistics.
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MiB = 1024 * 1024;
export const HERE = fileURLToPath(new URL('.', import.meta.url));

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fix = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Streams a file through sha256 (never holds it in memory). */
export function sha256File(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 * MiB })
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/**
 * A file of `bytes` random bytes at dir/name, created if missing or of another
 * size. Its sha256 is cached next to it (keyed by size and mtime).
 */
export async function randomFile(dir, name, bytes) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  if (!existsSync(path) || statSync(path).size !== bytes) {
    const fd = openSync(path, 'w');
    const buf = Buffer.allocUnsafe(MiB);
    for (let done = 0; done < bytes; done += MiB) {
      const n = Math.min(MiB, bytes - done);
      randomFillSync(buf, 0, n);
      writeSync(fd, buf, 0, n);
    }
    closeSync(fd);
  }
  const st = statSync(path);
  const cache = `${path}.sha256`;
  const key = `${st.size} ${st.mtimeMs}`;
  if (existsSync(cache)) {
    const [k, sha] = readFileSync(cache, 'utf8').split('\n');
    if (k === key && sha) return { name, path, size: bytes, sha256: sha };
  }
  const sha256 = await sha256File(path);
  writeFileSync(cache, `${key}\n${sha256}\n`);
  return { name, path, size: bytes, sha256 };
}

/**
 * Serves dataDir at GET /data/<name> with CORS, so that self-driving pages on
 * the bench server's origin can fetch their file from this (driver) process.
 */
export function startDataServer(dataDir) {
  const srv = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const cors = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    if (req.method !== 'GET' || !url.pathname.startsWith('/data/')) return res.writeHead(404, cors).end();
    const file = join(dataDir, basename(decodeURIComponent(url.pathname.slice('/data/'.length))));
    let size;
    try {
      size = statSync(file).size;
    } catch {
      return res.writeHead(404, cors).end();
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'content-length': String(size) });
    createReadStream(file, { highWaterMark: MiB }).pipe(res);
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) })),
  );
}

// ------------------------------------------------------------------ memory

/** VmRSS and VmHWM of a process, bytes; null once it is gone. */
export function procMem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s) ?? [0, 0])[1]) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Resets VmHWM to the current RSS (Linux; needs permission to write /proc/<pid>/clear_refs). */
export function resetHwm(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user + system) of a process. */
export function procCpuSec(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Samples a process's RSS every 10 ms from now until stop(). Resets VmHWM at
 * the start when possible, so stop() also reports the kernel's own peak.
 * Returns MiB figures: base (RSS at start), peak (max of samples and VmHWM), growth.
 */
export function sampleRss(pid) {
  const start = procMem(pid);
  const hwmReset = resetHwm(pid);
  const cpu0 = procCpuSec(pid);
  let peak = start?.rss ?? 0;
  let samples = 0;
  const timer = setInterval(() => {
    const m = procMem(pid);
    if (m) {
      samples++;
      if (m.rss > peak) peak = m.rss;
    }
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      const end = procMem(pid);
      if (end && end.rss > peak) peak = end.rss;
      const hwm = hwmReset && end ? end.hwm : NaN;
      const top = Math.max(peak, Number.isFinite(hwm) ? hwm : 0);
      const base = start?.rss ?? NaN;
      return {
        baseMiB: base / MiB,
        sampledPeakMiB: peak / MiB,
        hwmMiB: hwm / MiB,
        peakMiB: top / MiB,
        growthMiB: (top - base) / MiB,
        samples,
        cpuSec: procCpuSec(pid) - cpu0,
      };
    },
  };
}

// ------------------------------------------------------------------ the Inlet bench server

/**
 * Starts server.mjs as a child process. `chunkBytes` undefined = Inlet default.
 * Returns { url, pid, port, saved[], on(prefix, fn), waitFor(prefix, pred, ms), send(line), stop() }.
 */
export async function startInletServer({ workDir, tag, chunkBytes, maxFrameBytes, nodeArgs = [], env: extraEnv = {} }) {
  const dir = join(workDir, `srv-${tag}`);
  const env = {
    ...process.env,
    PORT: '0',
    OUT_DIR: join(dir, 'out'),
    UPLOAD_TMP: join(dir, 'tmp'),
    ...(chunkBytes ? { CHUNK_BYTES: String(chunkBytes) } : {}),
    ...(maxFrameBytes ? { MAX_FRAME_BYTES: String(maxFrameBytes) } : {}),
    ...extraEnv,
  };
  const child = spawn(process.execPath, [...nodeArgs, join(HERE, 'server.mjs')], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const listeners = [];
  const saved = [];
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 20000) stderr = stderr.slice(-10000);
  });
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const sp = line.indexOf(' ');
      const prefix = sp < 0 ? line : line.slice(0, sp);
      const rest = sp < 0 ? '' : line.slice(sp + 1);
      let value = rest;
      if (prefix === 'SAVED' || prefix === 'REPORT' || prefix === 'MEMPEAK') value = JSON.parse(rest);
      if (prefix === 'SAVED') saved.push(value);
      for (const l of [...listeners]) if (l.prefix === prefix) l.fn(value);
    }
  });
  const exited = new Promise((r) => child.on('exit', r));
  const api = {
    tag,
    chunkBytes,
    dir,
    outDir: env.OUT_DIR,
    tmpDir: env.UPLOAD_TMP,
    pid: child.pid,
    saved,
    get stderr() {
      return stderr;
    },
    on(prefix, fn) {
      const l = { prefix, fn };
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
    waitFor(prefix, pred = () => true, ms = 60000) {
      return new Promise((resolve, reject) => {
        let off = () => {};
        const timer = setTimeout(() => {
          off();
          reject(new Error(`server ${tag}: no ${prefix} within ${ms} ms${stderr ? `; stderr: ${stderr.slice(-500)}` : ''}`));
        }, ms);
        off = api.on(prefix, (v) => {
          if (!pred(v)) return;
          clearTimeout(timer);
          off();
          resolve(v);
        });
        exited.then(() => {
          clearTimeout(timer);
          off();
          reject(new Error(`server ${tag} exited; stderr: ${stderr.slice(-1000)}`));
        });
      });
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    /** Starts the server's own process.memoryUsage() sampling; the returned stop() resolves with peaks in MiB. */
    memStart() {
      api.send('MEMSTART');
      return {
        stop: async () => {
          const p = api.waitFor('MEMPEAK', () => true, 10000);
          api.send('MEMSTOP');
          const m = await p;
          const mib = (x) => (x ?? NaN) / MiB;
          return {
            heapUsedMiB: mib(m.heapUsed),
            heapUsedStartMiB: mib(m.start?.heapUsed),
            externalMiB: mib(m.external),
            arrayBuffersMiB: mib(m.arrayBuffers),
            externalStartMiB: mib(m.start?.external),
          };
        },
      };
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  const listening = await api.waitFor('LISTENING', () => true, 30000);
  api.port = Number(listening.split(' ')[0]);
  api.url = `http://127.0.0.1:${api.port}`;
  return api;
}

/** Files (count, bytes) under a folder, recursively. */
export function dirUsage(dir) {
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    let names;
    try {
      names = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of names) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        try {
          bytes += statSync(p).size;
        } catch {}
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
