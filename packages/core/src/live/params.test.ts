import { describe, expect, it } from 'vitest';
import { decodeForm, eventFields, targetPath } from './params.js';

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('decodeForm', () => {
  it('nests bracketed names and collects lists', () => {
    expect({ ...decodeForm('user[name]=Ada&user[email]=a%40b.c&tags[]=x&tags[]=y&plain=1') }).toEqual({
      user: { name: 'Ada', email: 'a@b.c' },
      tags: ['x', 'y'],
      plain: '1',
    });
  });

  it.each([
    ['a=1&a=2', { a: '2' }],
    ['a[0][name]=x&a[1][name]=y', { a: { 0: { name: 'x' }, 1: { name: 'y' } } }],
    ['u[][n]=a&u[][m]=1&u[][n]=b', { u: [{ n: 'a', m: '1' }, { n: 'b' }] }],
    ['my_form[users_drop][]=&my_form[users_sort][]=0&my_form[users_sort][]=new', { my_form: { users_drop: [''], users_sort: ['0', 'new'] } }],
    ['ids[]=1&ids[]=2', { ids: ['1', '2'] }],
    ['_unused_a=&a=foo&b=test', { _unused_a: '', a: 'foo', b: 'test' }],
    ['user[_unused_email]=&user[email]=', { user: { _unused_email: '', email: '' } }],
    ['a[b]=1&a=2', { a: '2' }],
    ['a=2&a[b]=1', { a: { b: '1' } }],
  ])('%s', (query, expected) => {
    expect(plain(decodeForm(query))).toEqual(expected);
  });

  it('ignores prototype keys', () => {
    const out = decodeForm('__proto__[polluted]=1&a[constructor][x]=1&u[][__proto__]=1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual([]);
  });
});

describe('targetPath', () => {
  it.each([
    ['foo', ['foo']],
    ['foo[bar]', ['foo', 'bar']],
    ['user[emails][]', ['user', 'emails']],
    ['a[][b]', ['a', 'b']],
    ['undefined', ['undefined']],
  ])('%s', (name, path) => expect(targetPath(name)).toEqual(path));
});

describe('eventFields', () => {
  it('decodes a form change with its meta and _target as a key path, like Phoenix', () => {
    const fields = eventFields('form', 'user%5Bname%5D=Ada&_unused_note=&note=', { _target: 'user[name]', extra: '1' });
    expect(plain(fields)).toEqual({ user: { name: 'Ada' }, _unused_note: '', note: '', _target: ['user', 'name'], extra: '1' });
  });

  it('leaves click values alone', () => {
    expect(eventFields('click', { id: '1', _target: 'x' }, undefined)).toEqual({ id: '1', _target: 'x' });
  });
});
