/**
 * Forms through the official client in headless Chromium: recovery after a
 * reconnect (default, phx-auto-recover, in a component, in a portal),
 * `_unused_` fields, readonly and disabled states restored after submits,
 * loading and locked states while the server has not answered.
 */
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { browserSuite, reconnect as reconnectPage, sentFrames as framesOf, settled as settledPage } from '../support/suite.js';
import { gate } from '../../examples/views/gate.js';

const s = browserSuite({}, () => gate.reset());
let page: Page;
beforeEach(() => {
  page = s.page;
});
const settled = () => settledPage(page);
const sentFrames = () => framesOf(page);
const reconnect = () => reconnectPage(page);

async function open(path: string): Promise<void> {
  await page.goto(`${s.server.url}${path}`);
  await settled();
}

/** The decoded form value of the first `event` frame naming `event`. */
function formValue(frames: readonly string[], event: string): Record<string, string> {
  const frame = frames.find((f) => f.includes(`"event":"${event}"`) && f.includes('"type":"form"'));
  if (!frame) throw new Error(`no "${event}" form event was sent`);
  const [, , , , payload] = JSON.parse(frame) as [unknown, unknown, unknown, unknown, { value: string }];
  return Object.fromEntries(new URLSearchParams(payload.value));
}

const value = (selector: string) => page.inputValue(selector);

/** Records attribute changes of the first element matching `selector` until the returned function is called. */
async function attributeChanges(selector: string): Promise<() => Promise<{ attr: string; oldValue: string | null; newValue: string | null }[]>> {
  await page.evaluate(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    const seen = (window.__mutations ??= {})[${JSON.stringify(selector)}] = [];
    new MutationObserver((list) => list.forEach((m) => seen.push({ attr: m.attributeName, oldValue: m.oldValue, newValue: m.target.getAttribute(m.attributeName) })))
      .observe(el, { attributes: true, attributeOldValue: true });
  })()`);
  return () => page.evaluate(`window.__mutations[${JSON.stringify(selector)}]`) as Promise<{ attr: string; oldValue: string | null; newValue: string | null }[]>;
}

describe('readonly and disabled states are restored after submits', () => {
  it('a readonly input stays readonly; another is readonly only while submitting', async () => {
    await open('/forms/recovery');
    expect(await page.getAttribute('input[name=a]', 'readonly')).toBe('');
    const changesA = await attributeChanges('input[name=a]');
    const changesB = await attributeChanges('input[name=b]');
    await page.click('#submit');
    await settled();
    expect(await changesA()).toEqual(
      expect.arrayContaining([
        { attr: 'data-phx-readonly', oldValue: null, newValue: 'true' },
        { attr: 'data-phx-readonly', oldValue: 'true', newValue: null },
      ]),
    );
    expect(await changesB()).toEqual(
      expect.arrayContaining([
        { attr: 'readonly', oldValue: null, newValue: '' },
        { attr: 'readonly', oldValue: '', newValue: null },
      ]),
    );
    await page.click('#submit');
    await settled();
    expect(await page.getAttribute('input[name=a]', 'readonly')).toBe('');
    expect(await page.getAttribute('input[name=b]', 'readonly')).toBeNull();
    expect(await page.isVisible('text=Form was submitted!')).toBe(true);
  });

  it('the submit button and a phx-disable-with button are re-enabled after the reply', async () => {
    await open('/forms/recovery');
    const submit = await attributeChanges('#submit');
    await page.click('#submit');
    await settled();
    expect(await submit()).toEqual(
      expect.arrayContaining([
        { attr: 'disabled', oldValue: null, newValue: '' },
        { attr: 'class', oldValue: null, newValue: 'phx-submit-loading' },
        { attr: 'disabled', oldValue: '', newValue: null },
      ]),
    );
    const button = await attributeChanges('button[type=button]');
    await page.click('button[type=button]');
    await settled();
    expect(await button()).toEqual(
      expect.arrayContaining([
        { attr: 'disabled', oldValue: null, newValue: '' },
        { attr: 'class', oldValue: null, newValue: 'phx-click-loading' },
        { attr: 'disabled', oldValue: '', newValue: null },
      ]),
    );
    expect(await page.textContent('button[type=button]')).toContain('Non-form Button');
  });

  it('a submit button with phx-click still submits', async () => {
    await open('/forms/recovery?phx-auto-recover=custom-recovery');
    expect(await page.isVisible('text=Form was submitted!')).toBe(false);
    await page.getByRole('button', { name: 'Submit with JS' }).click();
    await settled();
    expect(await page.isVisible('text=Form was submitted!')).toBe(true);
  });
});

for (const variant of ['', 'live-component', 'portal']) {
  const q = variant ? `&${variant}` : '';
  describe(`recovery after a reconnect${variant ? ` (${variant})` : ''}`, () => {
    it('the form is recovered with its values, _unused_ fields included', async () => {
      await open(`/forms/recovery?x=1${q}`);
      await page.fill('input[name=b]', 'test');
      await page.fill('input[name=e]', 'inside');
      await page.fill('input[name=f]', 'outside');
      await page.fill('input[name=c]', 'hello world');
      await page.selectOption('select[name=d]', 'bar');
      await settled();
      const frames = sentFrames();
      await reconnect();
      expect(await value('input[name=b]')).toBe('test');
      expect(await value('select[name=d]')).toBe('bar');
      if (variant !== 'portal') expect(await page.evaluate(`document.activeElement?.name`)).toBe('c');
      expect(formValue(frames, 'validate')).toEqual({ _unused_a: '', a: 'foo', b: 'test', c: 'hello world', d: 'bar', e: 'inside', f: 'outside' });
    });

    it('a JS command as phx-change recovers the form', async () => {
      await open(`/forms/recovery?js-change=1${q}`);
      expect(await page.getAttribute('form', 'phx-change')).toMatch(/push/);
      await page.fill('input[name=b]', 'test');
      await page.locator('input[name=b]').blur();
      await settled();
      await reconnect();
      expect(await value('input[name=b]')).toBe('test');
    });

    it('a form without an id is not recovered', async () => {
      await open(`/forms/recovery?no-id${q}`);
      await page.fill('input[name=b]', 'test');
      await page.locator('input[name=b]').blur();
      await settled();
      await reconnect();
      expect(await value('input[name=b]')).toBe('bar');
    });

    it('a form without phx-change is not recovered', async () => {
      await open(`/forms/recovery?no-change-event${q}`);
      await page.fill('input[name=b]', 'test');
      await page.locator('input[name=b]').blur();
      await settled();
      await reconnect();
      expect(await value('input[name=b]')).toBe('bar');
    });

    it('phx-auto-recover names the event that recovers it', async () => {
      await open(`/forms/recovery?phx-auto-recover=custom-recovery${q}`);
      await page.fill('input[name=b]', 'test');
      await page.locator('input[name=b]').blur();
      await settled();
      const frames = sentFrames();
      await reconnect();
      expect(await value('input[name=b]')).toBe('custom value from server');
      expect(frames.some((f) => /event.*_unused_a=&a=foo&b=test/.test(f) && f.includes('custom-recovery'))).toBe(true);
    });

    it('inputs in a disabled fieldset are left out', async () => {
      await open(`/forms/recovery?disabled-fieldset=true${q}`);
      await page.fill('input[name=c]', 'hello world');
      await page.selectOption('select[name=d]', 'bar');
      await settled();
      const frames = sentFrames();
      await reconnect();
      expect(formValue(frames, 'validate')).toEqual({ c: 'hello world', d: 'bar', _unused_e: '', e: '', _unused_f: '', f: '' });
    });

    if (variant !== 'portal') {
      it('a patch pushed by the recovery event changes the URL', async () => {
        await open(`/forms/recovery?phx-auto-recover=patch-recovery${q}`);
        await page.evaluate('new Promise((resolve) => window.liveSocket.disconnect(resolve))');
        await page.waitForSelector('.phx-loading');
        await page.evaluate('window.liveSocket.connect()');
        await page.waitForURL(/patched=true/);
        await settled();
      });
    }
  });
}

describe('_unused_ fields', () => {
  it('phx-no-unused-field on the form sends none', async () => {
    const frames = sentFrames();
    await open('/forms/recovery?phx-no-unused-field-form');
    await page.fill('input[name=b]', 'test');
    await page.locator('input[name=b]').blur();
    await settled();
    expect(frames.some((f) => /event.*a=foo&b=test&c=baz&d=foo/.test(f))).toBe(true);
    expect(frames.filter((f) => f.includes('_unused_'))).toEqual([]);
  });

  it('phx-no-unused-field on an input leaves out only that input', async () => {
    const frames = sentFrames();
    await open('/forms/recovery?phx-no-unused-field-input');
    await page.fill('input[name=b]', 'test');
    await page.locator('input[name=b]').blur();
    await settled();
    expect(frames.some((f) => /event.*_unused_a=&a=foo&b=test&c=baz&_unused_d=&d=foo/.test(f))).toBe(true);
  });
});

describe('loading and locked states while the server holds the events', () => {
  it('a change then a submit: classes, disable-with and refs come and go in order', async () => {
    await open('/forms/recovery?gate');
    const form = page.locator('#test-form');
    const submit = page.locator('#submit');
    await page.fill('input[name=b]', 'test');
    await expect.poll(() => form.getAttribute('class')).toBe('myformclass phx-change-loading');
    await submit.click();
    await expect.poll(() => form.getAttribute('class')).toBe('myformclass phx-change-loading phx-submit-loading');
    await expect.poll(() => submit.textContent()).toBe('Submitting');
    gate.release('validate');
    await expect.poll(() => form.getAttribute('class')).toBe('myformclass phx-submit-loading');
    expect(await submit.getAttribute('disabled')).toBe('');
    gate.release('save');
    await page.waitForSelector('text=Form was submitted!');
    await expect.poll(() => form.getAttribute('class')).toBe('myformclass');
    for (const attr of ['data-phx-disable-with-restore', 'data-phx-ref-loading', 'data-phx-ref-lock', 'data-phx-ref-src', 'disabled']) {
      expect(await submit.getAttribute(attr)).toBeNull();
    }
    expect(await submit.getAttribute('phx-disable-with')).toBe('Submitting');
    expect(await submit.textContent()).toBe('Submit');
  });
});

describe('a stream in a locked form (latent clone)', () => {
  it('stream items added while the form is locked appear on unlock, and their hooks mount', async () => {
    await open('/forms/stream?gate');
    await expect.poll(() => page.textContent('#form-stream-hook')).toBe('pong');
    const form = page.locator('#test-form');
    const input = page.locator('#test-form input[name=myname]');
    const submit = page.locator('#test-form button');
    const items = () => page.locator('#form-stream li').allInnerTexts();
    expect(await items()).toHaveLength(3);
    await input.fill('1');
    await input.fill('2');
    await expect.poll(() => form.getAttribute('class')).toBe('phx-change-loading');
    expect(await input.getAttribute('data-phx-ref-src')).not.toBeNull();
    await submit.click();
    await expect.poll(() => form.getAttribute('class')).toBe('phx-change-loading phx-submit-loading');
    await expect.poll(() => submit.textContent()).toBe('Saving...');
    gate.release('validate');
    // Still locked by the second change: the first one's stream item waits in the clone.
    await expect.poll(() => gate.waiting('validate')).toBe(0);
    expect(await items()).toHaveLength(3);
    gate.release('validate');
    // The clone is applied and the new items' hooks mount; their pings queue behind the held save.
    await expect.poll(items).toEqual(['*item 1pong', '*item 2pong', '*item 3pong', '*item 4', '*item 5']);
    expect(await submit.textContent()).toBe('Saving...');
    expect(await form.getAttribute('class')).toBe('phx-submit-loading');
    expect(await input.getAttribute('readonly')).toBe('');
    gate.release('save');
    await expect.poll(items).toEqual(['*item 1pong', '*item 2pong', '*item 3pong', '*item 4pong', '*item 5pong', '*item 6pong']);
    await expect.poll(() => submit.textContent()).toBe('Submit');
    expect(await form.getAttribute('class') ?? '').not.toContain('phx-submit-loading');
    expect(await input.getAttribute('readonly')).toBeNull();
    expect(await form.getAttribute('data-phx-ref-src')).toBeNull();
  });
});

describe('nested inputs added and removed', () => {
  const formData = (): Promise<Record<string, string>> =>
    page.evaluate(`Object.fromEntries(new FormData(document.querySelector('#my-form')).entries())`) as Promise<Record<string, string>>;

  for (const checkboxes of [false, true]) {
    it(`rows follow the sort and drop params (${checkboxes ? 'checkboxes' : 'buttons'})`, async () => {
      await open(`/forms/dynamic${checkboxes ? '?checkboxes=1' : ''}`);
      const addMore = () => (checkboxes ? page.locator('label', { hasText: 'add more' }).click() : page.getByRole('button', { name: 'add more' }).click());
      expect(await formData()).toEqual({ 'my_form[name]': '', 'my_form[users_drop][]': '' });
      await page.fill('#my-form_name', 'Test');
      await addMore();
      await settled();
      expect(await formData()).toEqual(expect.objectContaining({ 'my_form[name]': 'Test', 'my_form[users][0][name]': '' }));
      await page.fill('#my-form_users_0_name', 'User A');
      await addMore();
      await settled();
      await addMore();
      await settled();
      await page.fill('#my-form_users_1_name', 'User B');
      await page.fill('#my-form_users_2_name', 'User C');
      await settled();
      expect(await formData()).toEqual(
        expect.objectContaining({ 'my_form[users][0][name]': 'User A', 'my_form[users][1][name]': 'User B', 'my_form[users][2][name]': 'User C' }),
      );
      await page.click(`${checkboxes ? 'input' : 'button'}[name="my_form[users_drop][]"][value="1"]`);
      await settled();
      const data = await formData();
      expect(data).toEqual(expect.objectContaining({ 'my_form[name]': 'Test', 'my_form[users][0][name]': 'User A', 'my_form[users][1][name]': 'User C' }));
      expect('my_form[users][2][name]' in data).toBe(false);
    });
  }

  it('recovery after a reconnect adds no rows', async () => {
    await open('/forms/dynamic');
    await page.fill('#my-form_name', 'Test');
    await page.getByRole('button', { name: 'add more' }).click();
    await settled();
    await reconnect();
    const data = await formData();
    expect(data['my_form[name]']).toBe('Test');
    expect('my_form[users][0][name]' in data).toBe(true);
    expect('my_form[users][1][name]' in data).toBe(false);
  });
});

describe('selects', () => {
  const options = (selector: string) => page.locator(`${selector} option`).evaluateAll((list) => list.map((o) => (o as unknown as { value: string }).value));
  const selected = (selector: string) =>
    page.locator(`${selector} option`).evaluateAll((list) => list.filter((o) => (o as unknown as { selected: boolean }).selected).map((o) => (o as unknown as { value: string }).value));

  it('shows the error of a used field, and clears it once valid', async () => {
    await open('/forms/select');
    const select3 = page.locator('#select_form_select3');
    expect(await select3.inputValue()).toBe('2');
    expect(await select3.getAttribute('class')).toBeNull();
    await select3.selectOption('3');
    await settled();
    expect(await select3.getAttribute('class')).toBe('has-error');
    await select3.selectOption('6');
    await settled();
    expect(await select3.getAttribute('class')).toBeNull();
  });

  it('dependent selects follow the first one and both reset on submit', async () => {
    await open('/forms/select');
    expect(await options('#demo_select1')).toEqual(['', 'greetings', 'goodbyes']);
    expect(await options('#demo_select2')).toEqual(['']);
    await page.selectOption('#demo_select1', 'greetings');
    await settled();
    expect(await options('#demo_select2')).toEqual(['', 'hello', 'hallo', 'hei']);
    await page.selectOption('#demo_select2', 'hei');
    await settled();
    await page.click('#demo-submit');
    await expect.poll(() => page.textContent('#demo-submitted')).toBe('1');
    expect(await page.inputValue('#demo_select1')).toBe('');
    expect(await page.inputValue('#demo_select2')).toBe('');
    await page.selectOption('#demo_select1', 'goodbyes');
    await settled();
    expect(await options('#demo_select2')).toEqual(['', 'goodbye', 'auf wiedersehen', 'ha det bra']);
  });

  it('a multiple select takes server values unless the user has it focused', async () => {
    await open('/forms/select');
    const push = (ids: number[]) => page.evaluate(`window.liveSocket.execJS(document.body, ${JSON.stringify(JSON.stringify([['push', { event: 'select-ids', value: { ids } }]]))})`);
    expect(await selected('#ids')).toEqual([]);
    await push([1, 2]);
    await expect.poll(() => selected('#ids')).toEqual(['1', '2']);
    await push([2, 3]);
    await expect.poll(() => selected('#ids')).toEqual(['2', '3']);
    await page.locator('#ids').click({ position: { x: 1, y: 1 } });
    await expect.poll(() => selected('#ids')).toEqual(['1']);
    await push([1, 2]);
    await settled();
    expect(await selected('#ids')).toEqual(['1']);
    await page.locator('h1').click();
    await push([3, 4]);
    await expect.poll(() => selected('#ids')).toEqual(['3', '4']);
    expect(await page.evaluate(`document.activeElement?.id`)).not.toBe('ids');
  });

  it('a select without a name keeps the chosen value when the form re-renders', async () => {
    await open('/forms/select');
    expect(await page.inputValue('#unnamed')).toBe('ONE');
    await page.locator('#unnamed').focus();
    await page.selectOption('#unnamed', 'TWO');
    await settled();
    await expect.poll(() => page.getAttribute('#unnamed-ok', 'disabled')).toBeNull();
    expect(await page.inputValue('#unnamed')).toBe('TWO');
  });
});

describe('form details', () => {
  it('_target is the key path of the changed field', async () => {
    await open('/forms/details');
    await page.fill('#a', 'foo');
    await settled();
    await expect.poll(() => page.textContent('#target')).toBe('["foo"]');
    await page.fill('#b', 'foo');
    await settled();
    await expect.poll(() => page.textContent('#target')).toBe('["foo","bar"]');
  });

  it('recovering a form with no inputs does not hold up the join', async () => {
    await open('/forms/details');
    await page.evaluate('new Promise((resolve) => window.liveSocket.disconnect(resolve))');
    await page.waitForSelector('.phx-loading');
    await page.evaluate(`window.addEventListener('phx:page-loading-stop', () => window.liveSocket.js().push(window.liveSocket.main.el, 'reconnected')); window.liveSocket.connect()`);
    await page.waitForSelector('#reconnected');
    expect(await page.locator('.phx-loading').count()).toBe(0);
  });

  it('phx-trigger-action submits the form over HTTP with its submitter', async () => {
    await open('/forms/details');
    await page.getByRole('button', { name: 'Submit over HTTP' }).click();
    await page.waitForURL(/\/forms\/echo$/);
    const body = JSON.parse((await page.textContent('body')) ?? '{}') as Record<string, string>;
    expect(body).toEqual(expect.objectContaining({ greeting: 'hello', 'i-am-the-submitter': 'submitter-value' }));
    expect(body._csrf_token).toMatch(/.{16,}/);
    // The JSON page has no icon link, so the browser asks for /favicon.ico.
    s.errors.clear();
  });
});
