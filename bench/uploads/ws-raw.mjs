// Physical reference: a bare `ws` server (its own process) receiving binary
// messages from a `ws` client over loopback, with exactly one message in flight
// (the server answers every message with a short text "ok" before the client
// sends the next), the pacing of the Phoenix upload channel minus everything
// LiveView does. Optional server mode `write` also appends each message to a
// file and hashes it (what Inlet's default writer does per chunk).
//
//   node ws-raw.mjs --serve [write]   (prints "PORT <n>"; used by startRawServer)
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--serve') {
  const write = process.argv[3] === 'write';
  const dir = write ? mkdtempSync(join(process.env.WS_RAW_TMP ?? tmpdir(), 'wsraw-')) : null;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  wss.on('listening', () => console.log(`PORT ${wss.address().port}`));
  let n = 0;
  wss.on('connection', (ws) => {
    if (process.argv[3] === 'stream') {
      // The streaming reference: "size N" first, then bytes; one "done" at the end.
      let expected = Infinity;
      let got = 0;
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          expected = Number(/^size (\d+)$/.exec(String(data))?.[1] ?? Infinity);
          return;
        }
        got += data.length;
        if (got >= expected) ws.send('done');
      });
      return;
    }
    const file = write ? join(dir, `c${++n}`) : null;
    const fd = write ? openSync(file, 'w') : null;
    const hash = write ? createHash('sha256') : null;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      if (write) {
        writeSync(fd, data);
        hash.update(data);
      }
      ws.send('ok');
    });
    ws.on('close', () => {
      if (write) {
        closeSync(fd);
        rmSync(file, { force: true });
      }
    });
  });
  process.on('SIGTERM', () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

/** Starts the reference server in a child process. */
export function startRawServer(mode = 'ack', env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    child.stdout.on('data', (d) => {
      const m = /PORT (\d+)/.exec(String(d));
      if (m)
        resolve({
          port: Number(m[1]),
          pid: child.pid,
          stop: () =>
            new Promise((r) => {
              child.once('exit', r);
              child.kill('SIGTERM');
            }),
        });
    });
    child.once('exit', (c) => reject(new Error(`raw ws server exited ${c}`)));
  });
}

const payloads = new Map();

/** Sends `totalBytes` in `chunkBytes` messages, one in flight; resolves with elapsed ms (open → last ok). */
export function oneInFlight(port, totalBytes, chunkBytes) {
  if (!payloads.has(chunkBytes)) payloads.set(chunkBytes, randomBytes(chunkBytes));
  const payload = payloads.get(chunkBytes);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    let sent = 0;
    let t0;
    const next = () => {
      const n = Math.min(chunkBytes, totalBytes - sent);
      ws.send(n === chunkBytes ? payload : payload.subarray(0, n), { binary: true });
      sent += n;
    };
    ws.on('open', () => {
      t0 = performance.now();
      next();
    });
    ws.on('message', () => {
      if (sent < totalBytes) next();
      else {
        const ms = performance.now() - t0;
        ws.close();
        resolve(ms);
      }
    });
    ws.on('error', reject);
  });
}
