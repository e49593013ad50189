/**
 * Upload steps at protocol level over a real socket, as the official client
 * performs them: change event with `uploads`, preflight, `lvu:` join, binary
 * chunks one at a time, progress pushes.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { encodeBinaryPush } from '../../packages/core/src/protocol/frames.js';
import { encodeInletChunk } from '../../packages/core/src/uploads/inlet-wire.js';
import type { PhoenixClient } from './phoenix-ws.js';

export interface FileDesc {
  name: string;
  size: number;
  type?: string;
  ref?: string;
}

let entryCounter = 0;

export function describeFile(f: FileDesc, input = 'files'): Record<string, unknown> {
  return { path: input, ref: f.ref ?? String(entryCounter++), name: f.name, relative_path: '', type: f.type ?? 'application/octet-stream', size: f.size, last_modified: 1 };
}

/** Finds the upload config ref among the dynamics of a rendered tree (join reply). */
export function confRefOf(rendered: unknown): string {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      if (/^phx-[A-Za-z0-9]{8,}$/.test(node)) found.push(node);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) if (k !== 's' && k !== 'p') walk(v);
    }
  };
  walk(rendered);
  if (!found[0]) throw new Error('no upload ref rendered');
  return found[0];
}

export class UploadSession {
  constructor(
    readonly client: PhoenixClient,
    readonly joinRef: string,
    readonly topic: string,
  ) {}

  change(confRef: string, entries: Record<string, unknown>[], event = 'validate') {
    return this.client.request(this.joinRef, this.topic, 'event', {
      type: 'form',
      event,
      value: '',
      meta: { _target: 'files' },
      uploads: { [confRef]: entries },
    });
  }

  preflight(confRef: string, entries: Record<string, unknown>[]) {
    return this.client.request(this.joinRef, this.topic, 'allow_upload', { ref: confRef, entries });
  }

  progress(confRef: string, entryRef: string, progress: number | { error: string }) {
    return this.client.request(this.joinRef, this.topic, 'progress', { event: null, ref: confRef, entry_ref: entryRef, progress });
  }

  async joinEntry(entryRef: string, token: unknown): Promise<{ joinRef: string; reply: { status: string; response: Record<string, unknown> } }> {
    const joinRef = this.client.nextRef();
    const reply = this.client.waitFor((f) => f[1] === joinRef && f[3] === 'phx_reply');
    this.client.ws.send(JSON.stringify([joinRef, joinRef, `lvu:${entryRef}`, 'phx_join', { token }]));
    return { joinRef, reply: (await reply)[4] as { status: string; response: Record<string, unknown> } };
  }

  async chunk(entryRef: string, joinRef: string, data: Uint8Array): Promise<{ status: string; response: Record<string, unknown> }> {
    const ref = this.client.nextRef();
    const reply = this.client.waitFor((f) => f[1] === ref && f[3] === 'phx_reply');
    this.client.ws.send(encodeBinaryPush(joinRef, ref, `lvu:${entryRef}`, 'chunk', data));
    return (await reply)[4] as { status: string; response: Record<string, unknown> };
  }

  /** Sends a whole file (join, chunks, progress). */
  async send(confRef: string, entryRef: string, token: unknown, content: Buffer, chunkSize: number): Promise<string | undefined> {
    const { joinRef, reply } = await this.joinEntry(entryRef, token);
    if (reply.status !== 'ok') return String(reply.response.reason);
    let offset = 0;
    let pct = 0;
    while (offset < content.length) {
      const part = content.subarray(offset, offset + chunkSize);
      const r = await this.chunk(entryRef, joinRef, part);
      if (r.status !== 'ok') return String(r.response.reason);
      offset += part.length;
      const now = Math.floor((offset / content.length) * 100);
      if (now > pct) {
        pct = now;
        await this.progress(confRef, entryRef, now);
      }
    }
    return undefined;
  }

  submit(event = 'save') {
    return this.client.request(this.joinRef, this.topic, 'event', { type: 'form', event, value: '', meta: {} });
  }
}

/** A reply frame's `{ status, response }`. */
export interface ReplyPayload {
  status: string;
  response: Record<string, unknown>;
}

/**
 * The Inlet uploader's steps at protocol level: join with `inlet: 1`, framed
 * chunks (offset + CRC-32) pushed without waiting, `inlet_finish` with the
 * file's SHA-256.
 */
export class InletSession {
  constructor(
    readonly client: PhoenixClient,
    readonly entryRef: string,
  ) {}

  joinRef = '';

  get topic(): string {
    return `lvu:${this.entryRef}`;
  }

  async join(token: unknown, extra: Record<string, unknown> = {}): Promise<ReplyPayload> {
    const joinRef = this.client.nextRef();
    this.joinRef = joinRef;
    const reply = this.client.waitFor((f) => f[1] === joinRef && f[3] === 'phx_reply');
    this.client.ws.send(JSON.stringify([joinRef, joinRef, this.topic, 'phx_join', { token, inlet: 1, fp: 'f'.repeat(64), ...extra }]));
    return (await reply)[4] as unknown as ReplyPayload;
  }

  /** Pushes one framed chunk; resolves to its reply. `crc` overrides the checksum (to corrupt it). */
  chunk(offset: number, data: Uint8Array, crc = crc32(data)): Promise<ReplyPayload> {
    const ref = this.client.nextRef();
    const reply = this.client.waitFor((f) => f[1] === ref && f[3] === 'phx_reply', 20_000);
    this.client.ws.send(encodeBinaryPush(this.joinRef, ref, this.topic, 'inlet_chunk', encodeInletChunk(offset, data, crc)));
    return reply.then((f) => f[4] as unknown as ReplyPayload);
  }

  push(event: string, payload: Record<string, unknown>): Promise<ReplyPayload> {
    const ref = this.client.nextRef();
    const reply = this.client.waitFor((f) => f[1] === ref && f[3] === 'phx_reply', 20_000);
    this.client.ws.send(JSON.stringify([this.joinRef, ref, this.topic, event, payload]));
    return reply.then((f) => f[4] as unknown as ReplyPayload);
  }

  finish(sha256: string): Promise<ReplyPayload> {
    return this.push('inlet_finish', { sha256 });
  }

  /**
   * Sends `content[from..]` in `chunkSize` pieces with up to `window` bytes
   * unacknowledged, then the finish. Resolves to every chunk reply in order,
   * the finish reply, and the most chunks that were in flight at once.
   */
  async sendAll(content: Buffer, chunkSize: number, window: number, from = 0): Promise<{ replies: ReplyPayload[]; finish: ReplyPayload; maxInFlight: number }> {
    const replies: Promise<ReplyPayload>[] = [];
    let acked = from;
    let maxInFlight = 0;
    let inFlight = 0;
    const waiters: (() => void)[] = [];
    for (let offset = from; offset < content.length; offset += chunkSize) {
      const part = content.subarray(offset, offset + chunkSize);
      while (offset - acked + part.length > window && offset > acked) await new Promise<void>((r) => waiters.push(r));
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const end = offset + part.length;
      replies.push(
        this.chunk(offset, part).then((r) => {
          inFlight--;
          acked = Math.max(acked, end);
          waiters.splice(0).forEach((w) => w());
          return r;
        }),
      );
    }
    const finish = this.finish(createHash('sha256').update(content).digest('hex'));
    return { replies: await Promise.all(replies), finish: await finish, maxInFlight };
  }
}
