import { describe, expect, it } from 'vitest';
import { InletError } from '../errors.js';
import { LiveStream, StreamSet } from './stream.js';
import { html } from './template.js';
import { releaseStreamEntries, renderTemplate, treeToHtml, type RList } from './tree.js';
import { diff, toWire } from './wire.js';

type User = { id: number; name: string };
const row = (u: User, id: string) => html`<li id="${id}">${u.name}</li>`;
const view = (s: LiveStream<User>, n = 0) => html`<p>${n}</p><ul id="users" phx-update="stream">${s.map(row)}</ul>`;

function render(s: LiveStream<User>, n = 0) {
  const lists: RList[] = [];
  const tree = renderTemplate(view(s, n), { stream: (l) => lists.push(l) });
  s.prune();
  return { tree, release: () => releaseStreamEntries(lists) };
}

const users = () => {
  const set = new StreamSet();
  const s = set.stream('users', [
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ]) as LiveStream<User>;
  return { set, s };
};

describe('stream operations', () => {
  it('queues inserts in order with their options; the latest insert of an id wins', () => {
    const { s } = users();
    s.insert({ id: 3, name: 'c' }, { at: 0, limit: 10 });
    s.insert({ id: 1, name: 'a2' }, { updateOnly: true });
    expect(s.entries().map(([id, u]) => [id, u.name])).toEqual([
      ['users-2', 'b'],
      ['users-3', 'c'],
      ['users-1', 'a2'],
    ]);
    expect(s.wire()).toEqual([
      '0',
      [
        ['users-2', -1, null, false],
        ['users-3', 0, 10, false],
        ['users-1', -1, null, true],
      ],
      [],
    ]);
  });

  it('a delete drops a pending insert of the same id; delete then insert moves an item', () => {
    const { s } = users();
    s.prune();
    s.insert({ id: 3, name: 'c' });
    s.deleteByDomId('users-3');
    expect(s.wire()).toEqual(['0', [], ['users-3']]);
    s.prune();
    s.deleteByDomId('users-1');
    s.insert({ id: 1, name: 'a' }, { at: 0 });
    expect(s.wire()).toEqual(['0', [['users-1', 0, null, false]], ['users-1']]);
  });

  it('the call that creates a stream appends in order, whatever `at` and `reset` say (as Phoenix)', () => {
    const s = new StreamSet().stream('n', [{ id: 1 }, { id: 2 }], { at: 0, reset: true, limit: -5 });
    expect(s.wire()).toEqual(['0', [['n-1', -1, -5, false], ['n-2', -1, -5, false]], []]);
  });

  it('reset drops what was pending and is sent as a fourth element', () => {
    const { set, s } = users();
    set.stream('users', [{ id: 9, name: 'z' }], { reset: true });
    expect(s.wire()).toEqual(['0', [['users-9', -1, null, false]], [], true]);
    s.prune();
    expect(s.pending).toBe(false);
    expect(s.wire()).toEqual(['0', [], []]);
  });

  it('refs count per socket and carry a prefix (a component cid)', () => {
    const set = new StreamSet('3-');
    expect(set.stream('a', []).ref).toBe('3-0');
    expect(set.stream('b', []).ref).toBe('3-1');
    expect(set.stream('a', []).ref).toBe('3-0');
  });

  it('domId defaults to name-id; streamConfigure or the first stream call can set it', () => {
    const set = new StreamSet();
    set.configure('songs', { domId: (s) => `song-${(s as { slug: string }).slug}` });
    expect(set.stream('songs', [{ slug: 'x' }]).entries()[0]?.[0]).toBe('song-x');
    expect(set.stream('tags', [{ t: 'y' }], { domId: (t) => `tag-${(t as { t: string }).t}` }).entries()[0]?.[0]).toBe('tag-y');
  });

  it('rejects bad input with clear codes', () => {
    const set = new StreamSet();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof InletError ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => set.stream('x', [{ name: 'no id' }]))).toBe('INLET_ERR_STREAM_DOM_ID');
    expect(code(() => set.stream('x', [{ id: 1 }], { at: 1.5 }))).toBe('INLET_ERR_STREAM_OPTION');
    expect(code(() => set.stream('x', 5 as never))).toBe('INLET_ERR_STREAM_OPTION');
    expect(code(() => set.get('nope'))).toBe('INLET_ERR_STREAM_UNKNOWN');
    set.stream('y', []);
    expect(code(() => set.configure('y', {}))).toBe('INLET_ERR_STREAM_CONFIGURE');
    set.configure('z', {});
    expect(code(() => set.configure('z', {}))).toBe('INLET_ERR_STREAM_CONFIGURE');
    expect(code(() => set.stream('w', [{ id: 1 }], { domId: () => '' }))).toBe('INLET_ERR_STREAM_DOM_ID');
  });
});

describe('stream wire format', () => {
  it('first render: statics, every pending item, and the annotation', () => {
    const { s } = users();
    const { tree } = render(s);
    expect(toWire(tree)).toEqual({
      s: ['<p>', '</p><ul id="users" phx-update="stream">', '</ul>'],
      0: '0',
      1: {
        s: ['<li id="', '">', '</li>'],
        k: { 0: { 0: 'users-1', 1: 'a' }, 1: { 0: 'users-2', 1: 'b' }, kc: 2 },
        stream: ['0', [['users-1', -1, null, false], ['users-2', -1, null, false]], []],
      },
    });
    expect(treeToHtml(tree)).toBe('<p>0</p><ul id="users" phx-update="stream"><li id="users-1">a</li><li id="users-2">b</li></ul>');
  });

  it('later renders send only new items, without statics, and nothing when the stream is idle', () => {
    const { s } = users();
    const first = render(s);
    first.release();
    expect(treeToHtml(first.tree)).toBe('<p>0</p><ul id="users" phx-update="stream"></ul>');

    const idle = render(s, 1);
    expect(diff(first.tree, idle.tree)).toEqual({ 0: '1' });

    s.insert({ id: 3, name: 'c' }, { at: 0 });
    const next = render(s, 1);
    expect(diff(idle.tree, next.tree)).toEqual({ 1: { k: { 0: { 0: 'users-3', 1: 'c' }, kc: 1 }, stream: ['0', [['users-3', 0, null, false]], []] } });

    s.deleteByDomId('users-1');
    const del = render(s, 1);
    expect(diff(next.tree, del.tree)).toEqual({ 1: { k: { kc: 0 }, stream: ['0', [], ['users-1']] } });

    s.reset();
    const reset = render(s, 1);
    expect(diff(del.tree, reset.tree)).toEqual({ 1: { k: { kc: 0 }, stream: ['0', [], [], true] } });
  });

  it('an empty stream at first render still carries its ref; the statics arrive with the first items', () => {
    const s = new StreamSet().stream('users', []) as LiveStream<User>;
    const empty = render(s);
    expect(toWire(empty.tree)).toMatchObject({ 1: { k: { kc: 0 }, stream: ['0', [], []] } });
    s.insert({ id: 1, name: 'a' });
    const filled = render(s);
    expect(diff(empty.tree, filled.tree)).toEqual({
      1: { s: ['<li id="', '">', '</li>'], k: { 0: { 0: 'users-1', 1: 'a' }, kc: 1 }, stream: ['0', [['users-1', -1, null, false]], []] },
    });
    const idle = render(s);
    expect(diff(filled.tree, idle.tree)).toBeUndefined();
  });

  it('nested statics of items go into the comprehension’s template table every time', () => {
    const s = new StreamSet().stream('users', [{ id: 1, name: 'a' }]) as LiveStream<User>;
    const t = () => html`<ul phx-update="stream" id="u">${s.map((u, id) => html`<li id="${id}">${html`<b>${u.name}</b>`}</li>`)}</ul>`;
    const first = renderTemplate(t());
    s.prune();
    s.insert({ id: 2, name: 'b' });
    const second = renderTemplate(t());
    expect(diff(first, second)).toEqual({
      0: { k: { 0: { 0: 'users-2', 1: { s: 0, 0: 'b' } }, kc: 1 }, stream: ['0', [['users-2', -1, null, false]], []], p: { 0: ['<b>', '</b>'] } },
    });
  });
});
