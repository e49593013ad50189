/**
 * Regressions found by the protocol fuzzer (protocol.fuzz.test.ts), each
 * reduced to the frames that trigger it, against an in-process server.
 *
 *   npx vitest run test/fuzz/regressions.test.ts
 *
 * A client may send frames without waiting for replies (the wire allows it;
 * only the official client happens to wait for join replies). Every frame
 * that carries a ref must then still be answered: with its reply, with a
 * phx_error/phx_close of its channel, or by closing the socket. These cases
 * were answered by silence, so a client waits for its push timeout.
 * (A frame queued behind an event that crashes its view is covered by the
 * phx_error of that channel instance, so that case is not silence.)
 *
 * Cause (packages/core/src/protocol/connection.ts, #dispatch): frames of a
 * topic are queued on its slot; a queued task finds `slot.channel` unset
 * (the leave ran, or the join failed) and returns without any reply.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleOptions } from '../../examples/app.js';
import { fetchPage, PhoenixClient, type Frame } from '../support/phoenix-ws.js';

let root: string;
let server: InletServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-fuzz-regressions-'));
  server = createServer(exampleOptions({ secret: 'fuzz-regressions-secret-0123456789abcdef', storeRoot: join(root, 'store'), uploadTmpDir: join(root, 'tmp'), log: () => undefined }));
  await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Waits for the answer to the frame with `ref` on `topic`: its reply, a phx_error/phx_close of `joinRef`, or undefined on silence. */
function answerTo(client: PhoenixClient, ref: string, topic: string, joinRef: string, ms = 2000): Promise<Frame | undefined> {
  return client
    .waitFor((f) => (f[3] === 'phx_reply' && f[1] === ref) || ((f[3] === 'phx_error' || f[3] === 'phx_close') && f[2] === topic && f[0] === joinRef), ms)
    .catch(() => undefined);
}

function joinFrame(base: string, page: Awaited<ReturnType<typeof fetchPage>>, path: string, ref: string, session = page.session): string {
  return JSON.stringify([ref, ref, `lv:${page.id}`, 'phx_join', { url: base + path, params: { _csrf_token: page.csrf, _mounts: 0 }, session, static: page.static }]);
}

const click = (joinRef: string, ref: string, topic: string, event = 'inc') =>
  JSON.stringify([joinRef, ref, topic, 'event', { type: 'click', event, value: { value: '' } }]);

describe('pipelined frames are answered, never dropped', () => {
  it('an event sent right behind phx_leave is answered (was: no reply at all)', async () => {
    const page = await fetchPage(server.url, '/counter');
    const client = await PhoenixClient.connect(server.url, page);
    const { joinRef, topic, reply } = await client.joinView(server.url, page, '/counter');
    expect(reply.status).toBe('ok');
    const leave = answerTo(client, 'L', topic, joinRef);
    const event = answerTo(client, 'E', topic, joinRef);
    client.sendRaw(JSON.stringify([joinRef, 'L', topic, 'phx_leave', {}]));
    client.sendRaw(click(joinRef, 'E', topic));
    expect((await leave)?.[4]).toEqual({ status: 'ok', response: {} });
    // Expected: an error reply such as {reason: "unmatched topic"}; got: silence.
    expect(await event, 'the event behind the leave got no answer').toBeDefined();
    client.close();
  });

  it('an event sent right behind a join that is refused is answered (was: no reply at all)', async () => {
    const page = await fetchPage(server.url, '/counter');
    const client = await PhoenixClient.connect(server.url, page);
    const topic = `lv:${page.id}`;
    const joined = answerTo(client, 'J', topic, 'J');
    const event = answerTo(client, 'E', topic, 'J');
    client.sendRaw(joinFrame(server.url, page, '/counter', 'J', `${page.session}x`));
    client.sendRaw(click('J', 'E', topic));
    expect((await joined)?.[4]).toEqual({ status: 'error', response: { reason: 'stale' } });
    // Expected: {reason: "unmatched topic"} (the join failed, so the topic is not joined); got: silence.
    expect(await event, 'the event behind the refused join got no answer').toBeDefined();
    client.close();
  });
});
