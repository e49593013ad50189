import { describe, expect, it } from 'vitest';
import { decodeForm } from './params.js';
import { inputsFor, toForm, usedInput } from './form.js';

describe('toForm', () => {
  it('names and ids fields under the prefix, with their values and errors', () => {
    const form = toForm({ email: 'a@b' }, { as: 'user', errors: { email: 'is taken', name: ["can't be blank", 'too short'] } });
    expect(form.field('email')).toMatchObject({ id: 'user_email', name: 'user[email]', value: 'a@b', errors: ['is taken'], field: 'email' });
    expect(form.field('name')).toMatchObject({ id: 'user_name', name: 'user[name]', value: undefined, errors: ["can't be blank", 'too short'] });
  });

  it('without a prefix, a field is named and id-ed by itself; id overrides the id base', () => {
    expect(toForm({}).field('q')).toMatchObject({ id: 'q', name: 'q' });
    expect(toForm({}, { as: 'my_form', id: 'my-form' }).field('name')).toMatchObject({ id: 'my-form_name', name: 'my_form[name]' });
  });
});

describe('usedInput', () => {
  const used = (query: string, field: string) => usedInput(toForm(decodeForm(query)).field(field));

  it.each([
    ['title=x&_unused_email=&email=', 'title', true],
    ['title=x&_unused_email=&email=', 'email', false],
    ['title=x', 'email', false],
    ['bday[year]=1&bday[_unused_day]=&bday[day]=', 'bday', true],
    ['bday[_unused_year]=&bday[year]=&bday[_unused_day]=&bday[day]=', 'bday', false],
    ['_unused_x=', '_unused_x', false],
  ])('%s: %s used = %s', (query, field, expected) => expect(used(query, field)).toBe(expected));
});

describe('inputsFor', () => {
  it('one nested form per row of a map keyed by index, in index order', () => {
    const form = toForm(decodeForm('my_form[users][10][name]=K&my_form[users][2][name]=B&my_form[users][0][name]=A').my_form as Record<string, unknown>, {
      as: 'my_form',
      id: 'my-form',
    });
    const rows = inputsFor(form.field('users'));
    expect(rows.map((r) => [r.index, r.field('name').id, r.field('name').name, r.field('name').value])).toEqual([
      [0, 'my-form_users_0_name', 'my_form[users][0][name]', 'A'],
      [1, 'my-form_users_1_name', 'my_form[users][1][name]', 'B'],
      [2, 'my-form_users_2_name', 'my_form[users][2][name]', 'K'],
    ]);
  });

  it('the defaults when the params have no rows; errors by row', () => {
    const form = toForm({}, { as: 'f', errors: { 'items.1.title': 'too long' } });
    const rows = inputsFor(form.field('items'), { default: [{ title: 'a' }, { title: 'b' }], append: [{}] });
    expect(rows.map((r) => r.field('title').value)).toEqual(['a', 'b', undefined]);
    expect(rows[1]?.field('title').errors).toEqual(['too long']);
  });

  it('a single nested form for a map default', () => {
    const form = toForm({ address: { city: 'Oslo' } }, { as: 'user' });
    const [address] = inputsFor(form.field('address'), { default: {} });
    expect(address?.field('city')).toMatchObject({ name: 'user[address][city]', id: 'user_address_city', value: 'Oslo' });
  });
});
