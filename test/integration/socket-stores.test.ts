/**
 * Socket uploads into each kind of store through the one storage contract:
 * a config's `store` (memory, S3 multipart against a real radosgw) and a
 * LiveView-style `writer`, driven the way the official client uploads. The
 * bytes must arrive exactly, and the S3 path must leave no local temp file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createLiveView, html, live_file_input, MemoryStore, MemoryWriter, type UploadStore } from 'inletjs';
import { mountLive } from 'inletjs/testing';
import { S3MultipartStore } from '@inletjs/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RGW_SKIP_MESSAGE, useS3TestEnv } from '../support/rgw.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A view that stores `files` uploads with `options` and keeps what consume got. */
function uploadView(options: Record<string, unknown>, consumed: Record<string, unknown>[]) {
  return createLiveView({
    mount: (s) => s.allowUpload('files', { accept: 'any', maxEntries: 2, maxFileSize: 64 * MiB, ...options }),
    handleEvent: async (event, s) => {
      if (event.type === 'save') consumed.push(...(await s.consumeUploadedEntries('files', (meta) => ({ ...meta }))));
    },
    render: (_c, { uploads }) => html`<form phx-change="validate" phx-submit="save">${live_file_input(uploads.files!)}</form>`,
  });
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'inlet-socket-stores-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function uploadAndSave(options: Record<string, unknown>, content: Buffer) {
  const consumed: Record<string, unknown>[] = [];
  const view = await mountLive({ routes: { '/': uploadView(options, consumed) } }, '/', { uploadTmpDir: join(tmp, 'base') });
  const confRef = /id="(phx-[^"]+)" type="file"/.exec(view.html())?.[1] ?? '';
  const result = await view.upload(confRef, 'files', [{ name: 'clip.bin', content }]);
  await view.submit('save');
  return { result, consumed, view };
}

describe('socket uploads through the storage contract', () => {
  it('a MemoryStore config hands consume the bytes as meta.data, with the server sha256', async () => {
    const content = randomBytes(3 * MiB + 17);
    const store = new MemoryStore();
    const { result, consumed } = await uploadAndSave({ store }, content);
    expect(result.entries).toEqual([{ ref: '0', ok: true }]);
    expect(consumed).toHaveLength(1);
    expect(sha(consumed[0]?.data as Buffer)).toBe(sha(content));
    expect(consumed[0]?.sha256).toBe(sha(content));
    expect(store.bytes).toBe(0);
  });

  it('a LiveView-style writer still receives every chunk in order', async () => {
    const content = randomBytes(700_000);
    let writer: MemoryWriter | undefined;
    const { consumed } = await uploadAndSave({ writer: () => (writer = new MemoryWriter()), chunkSize: 64 * 1024 }, content);
    expect(sha(consumed[0]?.data as Buffer)).toBe(sha(content));
    expect(writer?.closedWith).toBe('done');
  });
});

describe('socket uploads into S3 multipart against radosgw', () => {
  const s3 = useS3TestEnv();

  it('lands 23 MiB in S3 in 5 MiB parts, byte-exact, with no local temp file', async (ctx) => {
    ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE);
    const { env, client } = s3.get();
    const store: UploadStore = new S3MultipartStore({ client, bucket: env.bucket, keyPrefix: 'socket/' });
    const content = randomBytes(23 * MiB + 5);
    const { result, consumed } = await uploadAndSave({ store }, content);
    expect(result.entries).toEqual([{ ref: '0', ok: true }]);
    // The server sized chunks for the store: 5 MiB parts, not the 1 MiB 'auto' would pick for 23 MiB.
    expect((result.preflight.config as { chunk_size: number }).chunk_size).toBe(5 * MiB);
    const meta = consumed[0] as { bucket: string; key: string; size: number; sha256: string };
    expect(meta.size).toBe(content.length);
    expect(meta.sha256).toBe(sha(content));
    const object = await client.send(new GetObjectCommand({ Bucket: meta.bucket, Key: meta.key }));
    const body = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(sha(body)).toBe(sha(content));
    const leftovers = await readdir(join(tmp, 'base'), { recursive: true }).catch(() => []);
    expect(leftovers.filter((name) => !/^p\d+-[0-9a-f]+$/.test(String(name)))).toEqual([]);
  });
});
