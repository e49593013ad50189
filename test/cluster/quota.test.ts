/**
 * Upload quotas across nodes: views on two "nodes" (two apps, each with its
 * own Redis client) count uploads against one app-supplied key on a real
 * redis-server. Over quota is refused at preflight with `quota_exceeded` and
 * a plain-words message; concurrent uploads never overshoot; cancelled
 * uploads give their bytes back; consumed ones keep counting. Every kept file
 * is checked by sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRedisClient, RedisQuotaCounter, type RedisClient } from '@inletjs/redis';
import { createLiveView, html, live_file_input, uploadErrorMessages, type QuotaCounter } from 'inletjs';
import { mountLive } from 'inletjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
const clients: RedisClient[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await redis.stop();
});

async function counter(): Promise<QuotaCounter> {
  const client = await createRedisClient({ url: redis.url });
  clients.push(client);
  return new RedisQuotaCounter({ client });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function docsView(quota: QuotaCounter, key: string) {
  return createLiveView<{ kept: { name: string; sha256: string }[] }>({
    mount: (socket) => {
      socket.assign({ kept: [] });
      socket.allowUpload('docs', { accept: 'any', maxEntries: 10, quota: { counter: quota, key, maxBytes: 100_000, maxFiles: 6 } });
    },
    handleEvent: async (event, socket) => {
      if (event.type === 'save') {
        const kept = await socket.consumeUploadedEntries('docs', async (meta, entry) => ({ name: entry.clientName, sha256: sha(await readFile(meta.path)) }));
        socket.assign({ kept: [...socket.assigns.kept, ...kept] });
      }
      if (event.type === 'cancel') await socket.cancelUpload('docs', String(event.ref));
    },
    render: ({ kept }, { uploads }) => html`<div><form phx-change="validate">${live_file_input(uploads.docs!)}</form>
<ul id="errors">${uploads.docs!.entries.map((e) => uploadErrorMessages(uploads.docs!, e).map((m) => html`<li>${e.clientName}: ${m}</li>`))}</ul>
<ul id="kept">${kept.map((k) => html`<li>${k.name} ${k.sha256}</li>`)}</ul>
</div>`,
  });
}

async function mountOnNode(key: string) {
  const quota = await counter();
  const view = docsView(quota, key);
  const live = await mountLive({ routes: { '/docs': view as never } }, '/docs');
  return { live, quota };
}

function confRef(html: string): string {
  return /data-phx-upload-ref="([^"]+)"/.exec(html)?.[1] ?? '';
}

describe('upload quotas across nodes (Redis)', () => {
  it('refuses at preflight, in plain words, what would go over the quota a file on another node used', async () => {
    const key = `user:${randomBytes(4).toString('hex')}`;
    const a = await mountOnNode(key);
    const b = await mountOnNode(key);
    const first = randomBytes(60_000);
    const upA = await a.live.upload(confRef(a.live.html()), 'docs', [{ name: 'first.bin', content: first }]);
    expect(upA.entries).toEqual([{ ref: expect.any(String), ok: true }]);
    await a.live.click('save');
    expect(a.live.html()).toContain(`first.bin ${sha(first)}`);
    expect(await a.quota.usage(key)).toEqual({ bytes: 60_000, files: 1 });

    const second = randomBytes(50_000);
    const upB = await b.live.upload(confRef(b.live.html()), 'docs', [{ name: 'second.bin', content: second }]);
    expect(upB.entries[0]?.ok).toBe(false);
    expect(JSON.stringify(upB.preflight)).toContain('quota_exceeded');
    expect(b.live.html()).toContain('second.bin: This file (50 kB) would go over your upload quota: 60 kB of 100 kB used.');
    expect(await b.quota.usage(key)).toEqual({ bytes: 60_000, files: 1 }); // a refused file reserves nothing
  });

  it('concurrent uploads on two nodes never overshoot; cancelled ones give their bytes back, consumed ones keep counting', async () => {
    const key = `user:${randomBytes(4).toString('hex')}`;
    const nodes = [await mountOnNode(key), await mountOnNode(key)];
    const files = Array.from({ length: 8 }, (_, i) => ({ name: `f${i}.bin`, content: randomBytes(20_000) }));
    // Four files from each node at the same moment: 8 x 20 kB against 100 kB and 6 files.
    const results = await Promise.all(
      nodes.map(({ live }, n) => live.upload(confRef(live.html()), 'docs', files.slice(n * 4, n * 4 + 4))),
    );
    const accepted = results.flatMap((r) => r.entries.filter((e) => e.ok));
    expect(accepted.length).toBe(5);
    expect(await nodes[0]!.quota.usage(key)).toEqual({ bytes: 100_000, files: 5 });
    expect(results.flatMap((r) => r.entries.filter((e) => !e.ok)).length).toBe(3);

    // Node 0 keeps what it got; node 1 cancels what it got: those bytes come back.
    await nodes[0]!.live.click('save');
    const keptOn0 = results[0]!.entries.filter((e) => e.ok).length;
    // Every file node 0 kept is byte-exact: its listed sha256 is its source's.
    const listed = [...nodes[0]!.live.html().matchAll(/<li>(f\d\.bin) ([0-9a-f]{64})<\/li>/g)];
    for (const [, name, digest] of listed) expect(digest).toBe(sha(files.find((f) => f.name === name)!.content));
    expect((nodes[0]!.live.html().match(/<li>f\d\.bin [0-9a-f]{64}<\/li>/g) ?? []).length).toBe(keptOn0);
    for (const e of results[1]!.entries.filter((x) => x.ok)) await nodes[1]!.live.click('cancel', { ref: e.ref });
    expect(await nodes[1]!.quota.usage(key)).toEqual({ bytes: keptOn0 * 20_000, files: keptOn0 });

    // A view that goes away with unconsumed uploads gives them back too.
    const extra = await mountOnNode(key);
    const up = await extra.live.upload(confRef(extra.live.html()), 'docs', [{ name: 'left.bin', content: randomBytes(10_000) }]);
    expect(up.entries[0]?.ok).toBe(true);
    expect((await extra.quota.usage(key)).bytes).toBe(keptOn0 * 20_000 + 10_000);
    await extra.live.leave();
    await expect.poll(async () => (await extra.quota.usage(key)).bytes).toBe(keptOn0 * 20_000);
  });
});
