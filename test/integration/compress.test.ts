/**
 * `compress`: permessage-deflate is negotiated only when the option is on,
 * and the 1,000-row join reply then crosses the wire in a fraction of its
 * bytes (bench/compress.mjs prints the full table).
 */
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, describe, expect, it } from 'vitest';
import { routes } from '../../examples/app.js';
import { fetchPage, PhoenixClient } from '../support/phoenix-ws.js';

const servers: InletServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

async function joinRows(compress: boolean): Promise<{ negotiated: boolean; wire: number; text: number }> {
  const server = createServer({ routes, compress, logger: false });
  servers.push(server);
  await server.listen(0);
  const page = await fetchPage(server.url, '/rows');
  const client = await PhoenixClient.connect(server.url, page);
  const tcp = (client.ws as unknown as { _socket: { bytesRead: number } })._socket;
  const before = tcp.bytesRead;
  const { reply } = await client.joinView(server.url, page, '/rows');
  const wire = tcp.bytesRead - before;
  const text = JSON.stringify(reply).length;
  const negotiated = client.ws.extensions.includes('permessage-deflate');
  client.close();
  return { negotiated, wire, text };
}

describe('compress', () => {
  it('is off by default: no deflate, the join reply travels at its own size', async () => {
    const off = await joinRows(false);
    expect(off.negotiated).toBe(false);
    expect(off.wire).toBeGreaterThan(off.text * 0.95);
  });

  it('on: deflate is negotiated and the 1,000-row join reply shrinks to under a third', async () => {
    const on = await joinRows(true);
    expect(on.negotiated).toBe(true);
    expect(on.wire).toBeLessThan(on.text / 3);
  });
});
