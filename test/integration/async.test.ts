/**
 * Async work through the in-process client: assignAsync (loading, ok,
 * failed, reset, keeping the old result while reloading), startAsync with
 * handleAsync, streamAsync, cancelAsync, a newer task replacing an older
 * one, components, nothing run in the HTTP render, and everything aborted
 * when the view ends.
 */
import { AsyncResult, asyncResult, createLiveComponent, createLiveView, html, liveComponent, type LiveStream } from 'inletjs';
import { mountLive, type LiveTestView } from 'inletjs/testing';
import { describe, expect, it } from 'vitest';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

let gate = deferred<string>();
const signals: AbortSignal[] = [];
let deadRuns = 0;

interface Assigns {
  org: AsyncResult<string>;
  report: string;
  songs: AsyncResult<true>;
  streams: { songs: LiveStream<{ id: number; title: string }> };
}
const AsyncView = createLiveView<Assigns>({
  mount: (socket) => {
    socket.assign({ report: '' });
    socket.assignAsync('org', async (signal) => {
      if (!socket.connected) deadRuns++;
      signals.push(signal);
      return { org: await gate.promise };
    });
  },
  handleEvent: (e, socket) => {
    if (e.type === 'reload') socket.assignAsync('org', async () => ({ org: await gate.promise }), { reset: e.reset === 'yes' });
    if (e.type === 'cancel') socket.cancelAsync(socket.assigns.org, 'stopped');
    if (e.type === 'report') socket.startAsync('report', async (signal) => {
      signals.push(signal);
      const v = await gate.promise;
      if (v === 'fail') throw new Error('report failed');
      return `report:${v}`;
    });
    if (e.type === 'cancel-report') socket.cancelAsync('report');
    if (e.type === 'songs') socket.streamAsync('songs', async () => [{ id: 1, title: await gate.promise }]);
  },
  handleAsync: (name, outcome, socket) => {
    socket.assign({ report: outcome.ok ? String(outcome.result) : `${name} failed: ${outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)}` });
  },
  render: ({ org, report, songs, streams }) => html`<p id="org">${asyncResult(org, {
    loading: () => html`loading`,
    failed: (r) => html`failed: ${r instanceof Error ? r.message : String(r)}`,
    ok: (name) => html`org ${name}${org.loading ? ' (reloading)' : ''}`,
  })}</p><p id="report">${report}</p><p id="songs">${songs ? (songs.ok ? 'songs ok' : 'songs loading') : ''}</p><ul id="list" phx-update="stream">${streams.songs ? streams.songs.map((s, id) => html`<li id="${id}">${s.title}</li>`) : ''}</ul>`,
});

const Row = createLiveComponent<{ id: string; detail?: AsyncResult<string> }>({
  update: (props, socket) => {
    socket.assign(props);
    if (!socket.assigns.detail) socket.assignAsync('detail', async () => ({ detail: `detail of ${props.id} ${await gate.promise}` }));
  },
  render: ({ id, detail }) => html`<li id="row-${id}">${asyncResult(detail, { loading: () => 'row loading', ok: (d) => d })}</li>`,
});
const Task = createLiveComponent<{ id: string; state?: string }>({
  mount: (socket) => socket.assign({ state: 'idle' }),
  handleEvent: (_e, socket) => {
    socket.assign({ state: 'working' });
    socket.startAsync('job', async () => {
      const v = await gate.promise;
      if (v === 'fail') throw new Error('job failed');
      return v;
    });
  },
  handleAsync: (name, outcome, socket) => socket.assign({ state: outcome.ok ? `${name} ${String(outcome.result)}` : `${name} failed` }),
  render: ({ state }, { myself }) => html`<p id="task" phx-click="go" phx-target="${myself}">${state}</p>`,
});
const WithRows = createLiveView({ render: () => html`<ul>${liveComponent(Row, { id: 'a' })}${liveComponent(Row, { id: 'b' })}</ul>${liveComponent(Task, { id: 't' })}` });

const routes = { '/async': AsyncView, '/rows': WithRows };

const nextDiff = (view: LiveTestView) => view.socket.next((f) => f[2] === view.topic && f[3] === 'diff');

describe('assignAsync', () => {
  it('renders loading in the HTTP render without running the function, then loads once connected', async () => {
    gate = deferred();
    deadRuns = 0;
    const view = await mountLive({ routes }, '/async');
    expect(deadRuns).toBe(0);
    expect(view.html()).toContain('<p id="org">loading</p>');
    const diff = nextDiff(view);
    gate.resolve('Acme');
    await diff;
    expect(view.html()).toContain('<p id="org">org Acme</p>');
  });

  it('keeps the loaded result while reloading, unless reset; fails with what the function threw', async () => {
    gate = deferred();
    const view = await mountLive({ routes }, '/async');
    let diff = nextDiff(view);
    gate.resolve('Acme');
    await diff;
    gate = deferred();
    await view.click('reload');
    expect(view.html()).toContain('org Acme (reloading)');
    diff = nextDiff(view);
    gate.reject(new Error('db down'));
    await diff;
    // A failure after a result keeps showing the result (ok stays true).
    expect(view.html()).toContain('<p id="org">org Acme</p>');
    gate = deferred();
    await view.click('reload', { reset: 'yes' });
    expect(view.html()).toContain('<p id="org">loading</p>');
    diff = nextDiff(view);
    gate.reject(new Error('db down'));
    await diff;
    expect(view.html()).toContain('<p id="org">failed: db down</p>');
  });

  it('cancelAsync fails the assign with the reason and aborts the signal; the late result is ignored', async () => {
    gate = deferred();
    signals.length = 0;
    const view = await mountLive({ routes }, '/async');
    await view.click('cancel');
    expect(view.html()).toContain('<p id="org">failed: stopped</p>');
    expect(signals[0]?.aborted).toBe(true);
    gate.resolve('late');
    await new Promise((r) => setTimeout(r, 20));
    expect(view.html()).toContain('failed: stopped');
  });

  it('loads in components and re-renders only them', async () => {
    gate = deferred();
    const view = await mountLive({ routes }, '/rows');
    expect(view.html()).toContain('row loading');
    const diff = nextDiff(view);
    gate.resolve('ok');
    const frame = await diff;
    expect(Object.keys(frame[4])).toEqual(['c']);
    await expect.poll(() => view.html()).toContain('detail of b ok');
    expect(view.html()).toContain('detail of a ok');
  });
});

describe('startAsync and handleAsync', () => {
  it('hands the result, or the thrown error, to handleAsync', async () => {
    gate = deferred();
    const view = await mountLive({ routes }, '/async');
    gate.resolve('x');
    await new Promise((r) => setTimeout(r, 10));
    gate = deferred();
    await view.click('report');
    let diff = nextDiff(view);
    gate.resolve('done');
    await diff;
    expect(view.html()).toContain('<p id="report">report:done</p>');
    gate = deferred();
    await view.click('report');
    diff = nextDiff(view);
    gate.resolve('fail');
    await diff;
    expect(view.html()).toContain('<p id="report">report failed: report failed</p>');
  });

  it('a second start of the same name replaces the first (aborted, ignored); cancel reports an exit', async () => {
    gate = deferred();
    signals.length = 0;
    const view = await mountLive({ routes }, '/async');
    await view.click('report');
    await view.click('report');
    expect(signals.slice(-2).map((s) => s.aborted)).toEqual([true, false]);
    const diff = nextDiff(view);
    await view.click('cancel-report');
    await diff;
    expect(view.html()).toContain('<p id="report">report failed: cancelled</p>');
  });
});

describe('startAsync in a component', () => {
  it("hands the outcome to the component's own handleAsync", async () => {
    gate = deferred();
    const view = await mountLive({ routes }, '/rows');
    gate.resolve('first');
    await expect.poll(() => view.html()).toContain('detail of a first');
    gate = deferred();
    await view.click('go', {}, 3);
    expect(view.html()).toContain('<p id="task" phx-click="go" phx-target="3">working</p>');
    const diff = nextDiff(view);
    gate.resolve('fail');
    await diff;
    expect(view.html()).toContain('>job failed</p>');
    expect(view.serverErrors).toEqual([]);
  });
});

describe('streamAsync', () => {
  it('streams the items the function resolves to and marks the assign ok', async () => {
    gate = deferred();
    const view = await mountLive({ routes }, '/async');
    gate.resolve('first');
    await new Promise((r) => setTimeout(r, 10));
    gate = deferred();
    await view.click('songs');
    expect(view.html()).toContain('songs loading');
    const diff = nextDiff(view);
    gate.resolve('Song A');
    await diff;
    expect(view.html()).toContain('songs ok');
    expect(view.streamIds('songs')).toEqual(['songs-1']);
  });
});

describe('when the view ends', () => {
  it('aborts every task and delivers nothing', async () => {
    gate = deferred();
    signals.length = 0;
    const view = await mountLive({ routes }, '/async');
    await view.click('report');
    await view.leave();
    expect(signals.every((s) => s.aborted)).toBe(true);
    const before = view.socket.sent.length;
    gate.resolve('late');
    await new Promise((r) => setTimeout(r, 20));
    expect(view.socket.sent.slice(before).filter((f) => f[2] === view.topic)).toEqual([]);
    expect(view.serverErrors).toEqual([]);
  });
});
