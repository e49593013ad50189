import { describe, expect, it } from 'vitest';
import { ok, type Channel, type ChannelRouter } from './channel.js';
import { Connection } from './connection.js';
import { encodeBinaryPush } from './frames.js';

class Sink {
  frames: unknown[][] = [];
  closed?: number;
  send(data: string | Buffer): void {
    this.frames.push(JSON.parse(data.toString()) as unknown[]);
  }
  close(code?: number): void {
    this.closed = code;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function echoRouter(opts: { slow?: () => Promise<void>; throwOn?: string } = {}): { router: ChannelRouter; terminated: string[] } {
  const terminated: string[] = [];
  const router: ChannelRouter = (topic) =>
    topic.startsWith('room:')
      ? () => {
          const channel: Channel = {
            async handleIn(event) {
              await opts.slow?.();
              if (event === opts.throwOn) throw new Error('boom');
              return ok({ event });
            },
            terminate: (reason) => terminated.push(`${topic}:${reason}`),
          };
          return { channel, reply: { joined: topic } };
        }
      : undefined;
  return { router, terminated };
}

describe('Connection', () => {
  it('answers heartbeats and unknown topics', async () => {
    const sink = new Sink();
    const c = new Connection(sink, { router: echoRouter().router });
    c.receive('[null,"1","phoenix","heartbeat",{}]', false);
    c.receive('["2","2","nope:1","phx_join",{}]', false);
    await tick();
    expect(sink.frames).toEqual([
      [null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }],
      ['2', '2', 'nope:1', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }],
    ]);
  });

  it('closes the old channel with phx_close when a topic is joined again', async () => {
    const sink = new Sink();
    const { router, terminated } = echoRouter();
    const c = new Connection(sink, { router });
    c.receive('["1","1","room:a","phx_join",{}]', false);
    await tick();
    c.receive('["3","3","room:a","phx_join",{}]', false);
    await tick();
    expect(sink.frames).toContainEqual(['1', '1', 'room:a', 'phx_close', {}]);
    expect(terminated).toEqual(['room:a:rejoin']);
    c.receive('["1","4","room:a","ping",{}]', false);
    await tick();
    expect(sink.frames.at(-1)).toEqual(['1', '4', 'room:a', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }]);
  });

  it('reports a throwing channel with phx_error and keeps the others', async () => {
    const sink = new Sink();
    const logged: [Record<string, unknown>, string][] = [];
    const { router, terminated } = echoRouter({ throwOn: 'bad' });
    const keep = (context: Record<string, unknown>, message: string): number => logged.push([context, message]);
    const c = new Connection(sink, { router, logger: { error: keep, warn: keep, info() {}, debug() {} } });
    c.receive('["1","1","room:a","phx_join",{}]', false);
    c.receive('["2","2","room:b","phx_join",{}]', false);
    await tick();
    c.receive('["1","3","room:a","bad",{}]', false);
    c.receive('["2","4","room:b","fine",{}]', false);
    await tick();
    expect(sink.frames).toContainEqual(['1', '1', 'room:a', 'phx_error', { reason: 'channel_crash' }]);
    expect(sink.frames).toContainEqual(['2', '4', 'room:b', 'phx_reply', { status: 'ok', response: { event: 'fine' } }]);
    expect(terminated).toEqual(['room:a:crash']);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.[1]).toBe('channel crashed');
    expect(logged[0]?.[0]).toMatchObject({ topic: 'room:a', channelEvent: 'bad' });
    expect(logged[0]?.[0].err).toBeInstanceOf(Error);
  });

  it('limits channels per connection', async () => {
    const sink = new Sink();
    const c = new Connection(sink, { router: echoRouter().router, maxChannels: 2, maxWaitingJoins: 0 });
    for (const t of ['a', 'b', 'c']) c.receive(`["${t}","${t}","room:${t}","phx_join",{}]`, false);
    await tick();
    expect(sink.frames).toContainEqual(['c', 'c', 'room:c', 'phx_reply', { status: 'error', response: { reason: 'too many channels joined' } }]);
    expect(sink.frames.filter((f) => (f[4] as { status?: string }).status === 'ok')).toHaveLength(2);
  });

  it('lets joins past the limit wait in order, keeps the place of one the client left and joined again, and refuses past maxWaitingJoins', async () => {
    const sink = new Sink();
    const { router } = echoRouter();
    const c = new Connection(sink, { router, maxChannels: 1, maxWaitingJoins: 2 });
    const oks = () => sink.frames.filter((f) => f[3] === 'phx_reply' && (f[4] as { status?: string }).status === 'ok' && (f[4] as { response: { joined?: string } }).response.joined).map((f) => f[2]);
    for (const t of ['a', 'b', 'c', 'd']) c.receive(`["${t}","${t}","room:${t}","phx_join",{}]`, false);
    await tick();
    expect(oks()).toEqual(['room:a']);
    expect(sink.frames).toContainEqual(['d', 'd', 'room:d', 'phx_reply', { status: 'error', response: { reason: 'too many channels joined' } }]);
    // The client's join of b timed out: it leaves, then joins again with a new ref; b keeps its place before c.
    c.receive('["b","5","room:b","phx_leave",{}]', false);
    c.receive('["b2","b2","room:b","phx_join",{}]', false);
    c.receive('["a","6","room:a","phx_leave",{}]', false);
    await tick();
    await tick();
    expect(oks()).toEqual(['room:a', 'room:b']);
    expect(sink.frames).toContainEqual(['b2', 'b2', 'room:b', 'phx_reply', { status: 'ok', response: { joined: 'room:b' } }]);
    // A waiting join the client left, and did not join again, is skipped.
    c.receive('["x","x","room:x","phx_join",{}]', false);
    c.receive('["c","7","room:c","phx_leave",{}]', false);
    c.receive('["b2","8","room:b","phx_leave",{}]', false);
    await tick();
    await tick();
    expect(oks()).toEqual(['room:a', 'room:b', 'room:x']);
  });

  it('asks the transport to stop reading while too many bytes wait, and to resume once they drain', async () => {
    const sink = new Sink();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const signals: boolean[] = [];
    const c = new Connection(sink, {
      router: echoRouter({ slow: () => gate }).router,
      maxQueuedBytes: 1000,
      onBackpressure: (paused) => signals.push(paused),
    });
    c.receive('["1","1","room:a","phx_join",{}]', false);
    await tick();
    for (let i = 0; i < 5; i++) c.receive(encodeBinaryPush('1', String(10 + i), 'room:a', 'chunk', Buffer.alloc(400)), true);
    expect(signals).toEqual([true]);
    expect(c.queuedBytes).toBeGreaterThan(1000);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(signals).toEqual([true, false]);
    expect(c.queuedBytes).toBe(0);
    expect(sink.frames.filter((f) => f[3] === 'phx_reply')).toHaveLength(6);
  });

  it('terminates every channel when the transport closes', async () => {
    const sink = new Sink();
    const { router, terminated } = echoRouter();
    const c = new Connection(sink, { router });
    c.receive('["1","1","room:a","phx_join",{}]', false);
    await tick();
    c.closed();
    expect(terminated).toEqual(['room:a:socket_closed']);
  });
});
