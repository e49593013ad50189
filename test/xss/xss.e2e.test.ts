/**
 * An XSS corpus (vectors.ts) through every kind of interpolation Inlet has,
 * in headless Chromium with the official client:
 *
 *   npx vitest run test/xss/xss.e2e.test.ts
 *
 * (no long profile: the whole corpus is the fast profile.)
 *
 * Kinds of interpolation, per vector: text, a double- and a single-quoted
 * attribute, an href, a textarea (RCDATA), a comment, nested templates,
 * entries of a plain-array comprehension and of a keyed `repeat`, a stateful
 * component (root attribute, text, nested template), and the page title.
 * Each arrives three ways: the dead (HTTP) render with the client blocked,
 * the join render, and diffs (rendered harmless first, then updated to the
 * vectors by an event, then to different vectors by another).
 *
 * Also: the corpus as names of files picked in the browser, rendered by an
 * upload view (text, attribute, live_img_preview, error messages); and a
 * positive control, the corpus inserted with safe(), where vectors must run,
 * which shows that the oracle does see XSS.
 *
 * Oracle after each: no marker fired (`__xss(id)`), no dialog, no element
 * with an id starting `xss-`, every element inside the view is one the view
 * itself renders with only its own attributes, and what the user sees (text,
 * attribute values, textarea value, title) is the raw vector, up to what the
 * HTML parser itself does to any text (CR LF to LF, NUL dropped from text or
 * made U+FFFD, one leading newline of a textarea dropped).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createLiveComponent, createLiveView, html, live_file_input, live_img_preview, liveComponent, repeat, safe, uploadErrorMessages, type Template } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser, type PageErrors } from '../support/browser.js';
import { VECTORS } from './vectors.js';

/** Per-vector interpolation slots (ids are `<slot><index>`); `title` is the page title. */
const SLOTS = ['t', 'a', 's', 'h', 'x', 'k', 'n', 'l', 'r', 'c'] as const;
type Slot = (typeof SLOTS)[number] | 'title';
type Strings = Record<Slot, string[]>;

/** The strings a phase renders: harmless text, or every vector with a marker id naming phase, slot and index. */
export function stringsFor(phase: string): Strings {
  const out = {} as Strings;
  for (const slot of [...SLOTS, 'title'] as Slot[]) {
    out[slot] = VECTORS.map((v, i) => (phase === 'harmless' ? `harmless ${slot} ${i}` : v.make(`${phase}.${slot}.${i}`)));
  }
  return out;
}

// ------------------------------------------------------------------ the view

/** Marks a dynamic in a template layout. */
const HOLE: unique symbol = Symbol('hole');
type Piece = string | typeof HOLE;

/** Statics from a layout of HTML pieces and holes, built once (a template's `strings` must be the same object on every render). */
function statics(layout: readonly Piece[]): TemplateStringsArray {
  const parts = [''];
  for (const piece of layout) {
    if (piece === HOLE) parts.push('');
    else parts[parts.length - 1] += piece;
  }
  return Object.freeze(Object.assign(parts, { raw: [...parts] })) as unknown as TemplateStringsArray;
}

const Probe = createLiveComponent<{ i: number; v: string }>({
  render: ({ i, v }) => html`<div id="c${i}" class="probe" title="${v}"><span>${v}</span>${html`<b>${v}</b>`}</div>`,
});

const nested = (v: string): Template => html`<em data-v="${v}">${v}</em><i>${html`<b>${v}</b>`}</i>`;

/** The root: per vector, each top-level slot is a direct dynamic of the root template. */
const ROOT = statics([
  `<div id="xss-root"><p><output id="phase">`,
  HOLE,
  `</output> <button class="ctl" id="arm" phx-click="arm">arm</button> <button class="ctl" id="arm2" phx-click="arm2">arm2</button> <button class="ctl" id="calm" phx-click="calm">calm</button></p>`,
  ...VECTORS.flatMap((_, i): Piece[] => [
    `<span id="t${i}">`,
    HOLE,
    `</span><span id="a${i}" title="`,
    HOLE,
    `"></span><span id="s${i}" title='`,
    HOLE,
    `'></span><a id="h${i}" href="`,
    HOLE,
    `">link</a><textarea id="x${i}">`,
    HOLE,
    `</textarea><span id="k${i}"><!--`,
    HOLE,
    `--></span><div id="n${i}">`,
    HOLE,
    `</div>`,
    HOLE,
  ]),
  `<ul id="list">`,
  HOLE,
  `</ul><ol id="keyed">`,
  HOLE,
  `</ol></div>`,
]);

const XssView = createLiveView<{ phase: string; v: Strings }>({
  mount: (socket, _session, params) => {
    const phase = typeof params.phase === 'string' ? params.phase : 'harmless';
    const v = stringsFor(phase);
    socket.assign({ phase, v });
    socket.pageTitle(v.title.join(' | '));
  },
  handleEvent: (event, socket) => {
    const phase = event.type === 'arm' ? 'diff1' : event.type === 'arm2' ? 'diff2' : 'harmless';
    const v = stringsFor(phase);
    socket.assign({ phase, v });
    socket.pageTitle(v.title.join(' | '));
  },
  render: ({ phase, v }) =>
    html(
      ROOT,
      phase,
      ...VECTORS.flatMap((_, i) => [
        v.t[i],
        v.a[i],
        v.s[i],
        v.h[i],
        v.x[i],
        v.k[i],
        nested(v.n[i] as string),
        liveComponent(Probe, { id: `c${i}`, i, v: v.c[i] as string }),
      ]),
      v.l.map((s, i) => html`<li id="l${i}" title="${s}">${s}</li>`),
      repeat(
        v.r,
        (_s, i) => i,
        (s, i) => html`<li id="r${i}" title="${s}">${s}</li>`,
      ),
    ),
});

/**
 * The positive control: the same corpus inserted with `safe()` (trusted HTML,
 * no escaping). Here vectors must run, which shows the oracle can see XSS.
 */
const UnsafeView = createLiveView<{ phase: string }>({
  mount: (socket, _session, params) => socket.assign({ phase: typeof params.phase === 'string' ? params.phase : 'harmless' }),
  handleEvent: (_event, socket) => socket.assign({ phase: 'diff1' }),
  render: ({ phase }) => html`<div id="unsafe-root"><output id="phase">${phase}</output><button class="ctl" id="arm" phx-click="arm">arm</button>${VECTORS.map(
    (v, i) => html`<div class="unsafe">${phase === 'harmless' ? `harmless ${i}` : safe(v.make(`${phase}.unsafe.${i}`))}</div>`,
  )}</div>`,
});

/**
 * File names are chosen by the user's machine: the corpus as names of files
 * picked in the browser, rendered by an upload view (text, attribute, image
 * preview, error messages).
 */
const UploadView = createLiveView({
  mount: (socket) => socket.allowUpload('files', { accept: 'any', maxEntries: 100, maxFileSize: 1000 }),
  handleEvent: () => undefined,
  render: (_assigns, { uploads }) => {
    const files = uploads.files as NonNullable<(typeof uploads)['files']>;
    return html`<div id="upload-root"><form id="pick" phx-change="validate">${live_file_input(files)}</form>${files.entries.map(
      (e, i) => html`<div class="entry" id="u${i}" title="${e.clientName}"><span>${e.clientName}</span>${live_img_preview(e)}<em>${uploadErrorMessages(files, e).join(' ')}</em></div>`,
    )}</div>`;
  },
});

// ------------------------------------------------------------------ expectations

const crlf = (s: string) => s.replace(/\r\n?/g, '\n');
/** Text content after parsing: NUL characters are dropped. */
const asText = (s: string) => crlf(s).replace(/\0/g, '');
/** Attribute values and RCDATA after parsing: NUL becomes U+FFFD. */
const asAttr = (s: string) => crlf(s).replace(/\0/g, '\ufffd');
/** A textarea's value: RCDATA, minus one leading newline. */
const asTextarea = (s: string) => asAttr(s).replace(/^\n/, '');
/** document.title strips and collapses ASCII whitespace. */
const asTitle = (s: string) => s.replace(/[\t\n\f\r ]+/g, ' ').trim();

/** One element to check: its tag, exactly these attributes (besides the client's data-phx-*), its text and child elements. */
interface Expect {
  readonly id: string;
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly text?: string;
  readonly value?: string;
  readonly children?: number;
  readonly onlyComment?: boolean;
}

function expectations(v: Strings): { elements: Expect[]; title: { dead: string; live: string } } {
  const elements: Expect[] = [];
  VECTORS.forEach((_, i) => {
    const at = (slot: Slot) => v[slot][i] as string;
    elements.push(
      { id: `t${i}`, tag: 'SPAN', attrs: {}, text: asText(at('t')), children: 0 },
      { id: `a${i}`, tag: 'SPAN', attrs: { title: asAttr(at('a')) }, text: '', children: 0 },
      { id: `s${i}`, tag: 'SPAN', attrs: { title: asAttr(at('s')) }, text: '', children: 0 },
      { id: `h${i}`, tag: 'A', attrs: { href: asAttr(at('h')) }, text: 'link', children: 0 },
      { id: `x${i}`, tag: 'TEXTAREA', attrs: {}, value: asTextarea(at('x')), children: 0 },
      { id: `k${i}`, tag: 'SPAN', attrs: {}, onlyComment: true, children: 0 },
      { id: `n${i}`, tag: 'DIV', attrs: {}, text: asText(at('n')).repeat(2), children: 2 },
      { id: `l${i}`, tag: 'LI', attrs: { title: asAttr(at('l')) }, text: asText(at('l')), children: 0 },
      { id: `r${i}`, tag: 'LI', attrs: { title: asAttr(at('r')) }, text: asText(at('r')), children: 0 },
      { id: `c${i}`, tag: 'DIV', attrs: { class: 'probe', title: asAttr(at('c')) }, text: asText(at('c')).repeat(2), children: 2 },
    );
  });
  const title = v.title.join(' | ');
  // The dead render parses the title (NUL → U+FFFD); the client sets document.title to the raw string,
  // which Chromium reads back with control characters as spaces.
  return { elements, title: { dead: asTitle(asAttr(title)), live: asTitle(title.replace(/[\u0000-\u001f]/g, ' ')) } };
}

/** Elements and attributes the view renders itself (the client adds data-phx-* and phx-* classes). */
const OWN_TAGS = ['DIV', 'P', 'OUTPUT', 'BUTTON', 'SPAN', 'A', 'TEXTAREA', 'EM', 'I', 'B', 'UL', 'OL', 'LI'];
const OWN_ATTRS = ['id', 'title', 'href', 'class', 'data-v', 'phx-click'];

/** Runs in the page: every problem found, as text. */
function inspect(args: { elements: Expect[]; title: string; ownTags: string[]; ownAttrs: string[] }): string[] {
  const problems: string[] = [];
  const w = window as unknown as { __xssFired?: string[] };
  if (w.__xssFired && w.__xssFired.length > 0) problems.push(`markers fired: ${w.__xssFired.join(', ')}`);
  for (const el of Array.from(document.querySelectorAll('[id^="xss-"]'))) if (el.id !== 'xss-root') problems.push(`marker element #${el.id}`);
  const root = document.getElementById('xss-root');
  if (!root) return [...problems, 'no #xss-root'];
  for (const el of Array.from(root.querySelectorAll('*'))) {
    if (!args.ownTags.includes(el.tagName)) problems.push(`foreign element <${el.tagName.toLowerCase()}> in #${el.closest('[id]')?.id ?? '?'}`);
    for (const a of Array.from(el.attributes)) {
      if (!args.ownAttrs.includes(a.name) && !a.name.startsWith('data-phx-')) problems.push(`foreign attribute ${a.name} on #${el.id || el.closest('[id]')?.id || '?'}`);
    }
  }
  for (const e of args.elements) {
    const el = document.getElementById(e.id);
    if (!el) {
      problems.push(`missing #${e.id}`);
      continue;
    }
    if (el.tagName !== e.tag) problems.push(`#${e.id} is <${el.tagName}>`);
    const own = Array.from(el.attributes).filter((a) => a.name !== 'id' && !a.name.startsWith('data-phx-') && !(a.name === 'class' && !('class' in e.attrs)));
    const names = own.map((a) => a.name).sort();
    if (names.join() !== Object.keys(e.attrs).sort().join()) problems.push(`#${e.id} attributes [${names.join(', ')}]`);
    for (const [name, value] of Object.entries(e.attrs)) {
      const got = name === 'class' ? el.getAttribute('class')?.split(/\s+/).filter((c) => !c.startsWith('phx-')).join(' ') : el.getAttribute(name);
      if (got !== value) problems.push(`#${e.id} ${name}=${JSON.stringify(got)}, want ${JSON.stringify(value)}`);
    }
    if (e.children !== undefined && el.childElementCount !== e.children) problems.push(`#${e.id} has ${el.childElementCount} child elements`);
    if (e.text !== undefined && el.textContent !== e.text) problems.push(`#${e.id} text ${JSON.stringify(el.textContent)}, want ${JSON.stringify(e.text)}`);
    if (e.value !== undefined && (el as HTMLTextAreaElement).value !== e.value) {
      problems.push(`#${e.id} value ${JSON.stringify((el as HTMLTextAreaElement).value)}, want ${JSON.stringify(e.value)}`);
    }
    if (e.onlyComment && !(el.childNodes.length === 1 && el.firstChild?.nodeType === Node.COMMENT_NODE)) {
      problems.push(`#${e.id} holds ${el.childNodes.length} nodes, not one comment`);
    }
  }
  if (document.title !== args.title) {
    let at = 0;
    while (document.title[at] === args.title[at]) at++;
    const around = (s: string) => JSON.stringify(s.slice(Math.max(0, at - 40), at + 40));
    problems.push(`title differs at ${at}: ${around(document.title)}, want ${around(args.title)}`);
  }
  return problems;
}

// ------------------------------------------------------------------ the test

let browser: Browser;
let server: InletServer;
let context: BrowserContext;
let page: Page;
let errors: PageErrors;
let dialogs: string[];
const figures: { phase: string; checks: number; problems: number; ms: number }[] = [];
let dialogCount = 0;
const control: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = createServer({ routes: { '/xss': XssView, '/xss-unsafe': UnsafeView, '/xss-upload': UploadView }, secret: 'xss-e2e-secret-0123456789abcdef-0123456789', log: () => undefined });
  await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  const rows = figures.map((f) => `${f.phase.padEnd(26)} ${String(f.checks).padStart(5)} checks  ${String(f.problems).padStart(3)} problems  ${f.ms} ms`);
  console.log(
    [
      `── xss corpus ─────────────────────────────────────────────────`,
      `vectors ${VECTORS.length}, slots per vector ${SLOTS.length} + page title, unexpected dialogs ${dialogCount}`,
      ...rows,
      ...control,
    ].join('\n'),
  );
});

beforeEach(async () => {
  context = await browser.newContext();
  await context.addInitScript('window.__xssFired = []; window.__xss = (id) => window.__xssFired.push(String(id));');
  page = await context.newPage();
  errors = collectPageErrors(page);
  dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    dialogCount++;
    void d.dismiss();
  });
});

afterEach(async () => {
  await context.close();
});

/** Runs the in-page inspection for `phase` and records the figures. */
async function check(label: string, phase: string, titleKind: 'dead' | 'live'): Promise<string[]> {
  const started = Date.now();
  // Give event handlers that need a load or an error (img, video, iframe) time to fire.
  await page.waitForTimeout(300);
  const { elements, title } = expectations(stringsFor(phase));
  const problems = await page.evaluate(inspect, { elements, title: title[titleKind], ownTags: OWN_TAGS, ownAttrs: OWN_ATTRS });
  if (dialogs.length > 0) problems.push(`dialogs: ${dialogs.join(', ')}`);
  const pageErrors = errors.unexpected([/Failed to load resource/, /inlet-client\.js/, /Failed to fetch dynamically imported module/]);
  if (pageErrors.length > 0) problems.push(`page errors: ${pageErrors.map((p) => p.text).join(' | ')}`);
  figures.push({ phase: label, checks: elements.length * 4 + 3, problems: problems.length, ms: Date.now() - started });
  return problems;
}

describe(`XSS corpus (${VECTORS.length} vectors) in Chromium`, () => {
  it('positive control: through safe(), vectors do run and the oracle sees them', async () => {
    const fired = (): Promise<string[]> => page.evaluate(() => (window as unknown as { __xssFired: string[] }).__xssFired);
    await page.route('**/inlet/inlet-client.js', (route) => route.abort());
    await page.goto(`${server.url}/xss-unsafe?phase=dead`);
    await page.waitForLoadState('load');
    await page.waitForTimeout(500);
    const dead = new Set((await fired()).map((id) => id.split('.')[2]));
    const deadDialogs = dialogs.length;
    await page.unroute('**/inlet/inlet-client.js');
    await gotoLive(page, `${server.url}/xss-unsafe?phase=harmless`);
    await page.click('#arm');
    await page.waitForFunction(() => document.getElementById('phase')?.textContent === 'diff1');
    await page.waitForTimeout(500);
    const viaDiff = new Set((await fired()).filter((id) => id.startsWith('diff1.')).map((id) => id.split('.')[2]));
    control.push(`positive control (safe): ${dead.size}/${VECTORS.length} vectors ran in the dead render (${deadDialogs} dialogs), ${viaDiff.size} through a diff`);
    dialogCount -= dialogs.length;
    expect(dead.size).toBeGreaterThan(10);
    expect(deadDialogs).toBeGreaterThan(0);
    expect(viaDiff.size).toBeGreaterThan(5);
  });

  it('file names: the corpus as names of picked files is shown as text', async () => {
    await gotoLive(page, `${server.url}/xss-upload`);
    // Half the files are larger than maxFileSize, so error messages render next to their names.
    const names = VECTORS.map((v, i) => v.make(`upload.${i}`));
    await page.setInputFiles('#pick input[type=file]', names.map((name, i) => ({ name, mimeType: 'image/png', buffer: Buffer.alloc(i % 2 === 0 ? 10 : 2000, 1) })));
    await page.waitForFunction((n) => document.querySelectorAll('#upload-root .entry').length === n, names.length);
    await page.waitForTimeout(300);
    const seen = await page.evaluate(() => {
      const w = window as unknown as { __xssFired: string[] };
      return {
        fired: w.__xssFired,
        markers: Array.from(document.querySelectorAll('[id^="xss-"]')).map((e) => e.id),
        entries: Array.from(document.querySelectorAll('#upload-root .entry')).map((e) => ({
          title: e.getAttribute('title'),
          text: e.querySelector('span')?.textContent,
          tags: Array.from(e.querySelectorAll('*')).map((c) => c.tagName).join(','),
        })),
      };
    });
    const problems: string[] = [];
    if (seen.fired.length > 0) problems.push(`markers fired: ${seen.fired.join(', ')}`);
    if (seen.markers.length > 0) problems.push(`marker elements: ${seen.markers.join(', ')}`);
    seen.entries.forEach((e, i) => {
      const name = names[i] ?? '';
      if (e.title !== asAttr(name)) problems.push(`#u${i} title ${JSON.stringify(e.title)}, want ${JSON.stringify(asAttr(name))}`);
      if (e.text !== asText(name)) problems.push(`#u${i} text ${JSON.stringify(e.text)}, want ${JSON.stringify(asText(name))}`);
      if (e.tags !== 'SPAN,IMG,EM') problems.push(`#u${i} elements ${e.tags}`);
    });
    if (dialogs.length > 0) problems.push(`dialogs: ${dialogs.join(', ')}`);
    figures.push({ phase: 'file names (upload view)', checks: seen.entries.length * 3 + 2, problems: problems.length, ms: 0 });
    expect(problems).toEqual([]);
  });

  it('has at least 40 vectors with distinct names', () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(VECTORS.map((v) => v.name)).size).toBe(VECTORS.length);
  });

  it('dead (HTTP) render: nothing runs, every vector reads as text', async () => {
    // Without the client the page stays as the server rendered it.
    await page.route('**/inlet/inlet-client.js', (route) => route.abort());
    const res = await page.goto(`${server.url}/xss?phase=dead`);
    expect(res?.status()).toBe(200);
    await page.waitForLoadState('load');
    expect(await page.locator('[data-phx-main]').getAttribute('class')).toBeNull();
    expect(await check('dead render', 'dead', 'dead')).toEqual([]);
  });

  it('join render: nothing runs, every vector reads as text', async () => {
    await gotoLive(page, `${server.url}/xss?phase=live`);
    expect(await check('join render', 'live', 'live')).toEqual([]);
  });

  it('diffs: harmless, then vectors, then other vectors, then harmless again', async () => {
    await gotoLive(page, `${server.url}/xss?phase=harmless`);
    expect(await check('diff: harmless first', 'harmless', 'live')).toEqual([]);
    for (const [button, phase] of [
      ['#arm', 'diff1'],
      ['#arm2', 'diff2'],
      ['#calm', 'harmless'],
    ] as const) {
      await page.click(button);
      await page.waitForFunction((p) => document.getElementById('phase')?.textContent === p, phase);
      expect(await check(`diff: ${button} → ${phase}`, phase, 'live')).toEqual([]);
    }
  });
});
