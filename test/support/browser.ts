/**
 * Browser helpers for the e2e tests: Debian's Chromium driven by
 * playwright-core (never a downloaded browser), the example app on a free
 * port, and a collector for the errors a page reports.
 *
 * The test tsconfig has no DOM lib, so code that runs inside the page is
 * passed to `page.evaluate` as a string.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { createServer, type InletServer, type ServerOptions } from 'inletjs/node';

/** The only browser the tests use (apt package `chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, sandbox-free headless Chromium in CI containers. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
] as const;

/** The selector the official client marks once the main view has joined. */
export const MAIN_CONNECTED = '[data-phx-main].phx-connected';

/**
 * Launches headless Chromium from {@link CHROMIUM_PATH}.
 *
 * @example
 * const browser = await launchBrowser()
 * const page = await browser.newPage()
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `e2e tests need Debian's Chromium at ${CHROMIUM_PATH} (apt-get install chromium); ` +
        'playwright-core drives it and never downloads a browser',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
}

/** Server options plus the example app's own: `storeRoot` (where uploads land) and `s3`. */
export type ExampleOverrides = Partial<ServerOptions> & { readonly storeRoot?: string; readonly s3?: unknown };

interface ExampleApp {
  exampleOptions(overrides?: ExampleOverrides): ServerOptions;
}

/** examples/ is plain JS without declarations, so it is imported by URL and typed here. */
const EXAMPLE_APP_URL = new URL('../../examples/app.js', import.meta.url).href;

/**
 * Starts the example app on 127.0.0.1 (port 0 = a free port unless `port` is
 * given). The caller closes it.
 *
 * @example
 * const server = await startExample({ secret: 'x'.repeat(32) })
 * await page.goto(`${server.url}/counter`)
 * await server.close()
 */
export async function startExample(overrides: ExampleOverrides = {}, port = 0): Promise<InletServer> {
  const { exampleOptions } = (await import(EXAMPLE_APP_URL)) as ExampleApp;
  const server = createServer(exampleOptions(overrides));
  await server.listen(port, '127.0.0.1');
  return server;
}

/**
 * Closes a page or a browser context, waiting at most `ms`: closing one whose page is mid-reload
 * once hung a loaded CI run for a whole hook timeout. What is left open goes with the browser.
 */
export async function closeWithin(target: { close(): Promise<void> }, ms = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([target.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Waits until the main live view has joined (the client adds `phx-connected`).
 *
 * @example
 * await page.goto(`${server.url}/counter`)
 * await waitForConnected(page)
 */
export async function waitForConnected(page: Page, timeout = 10_000): Promise<void> {
  await page.waitForSelector(MAIN_CONNECTED, { timeout });
}

/** Loads `url` and waits for the main view to join. */
export async function gotoLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForConnected(page);
}

/** One problem a page reported. */
export interface PageProblem {
  readonly kind: 'pageerror' | 'console';
  readonly text: string;
}

/** Errors a page reported since {@link collectPageErrors} was called. */
export interface PageErrors {
  /** Everything collected so far. */
  readonly all: PageProblem[];
  /** Collected problems not matched by any of `expected`. */
  unexpected(expected?: readonly RegExp[]): PageProblem[];
  /** Forgets what was collected so far. */
  clear(): void;
}

/**
 * Starts collecting uncaught page exceptions and `console.error` messages
 * (the client also reports LiveView version mismatches and protocol
 * surprises there), so a test can assert that none happened.
 *
 * @example
 * const errors = collectPageErrors(page)
 * // … drive the page …
 * expect(errors.unexpected()).toEqual([])
 */
export function collectPageErrors(page: Page): PageErrors {
  const all: PageProblem[] = [];
  page.on('pageerror', (error: Error) => all.push({ kind: 'pageerror', text: `${error.name}: ${error.message}` }));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') all.push({ kind: 'console', text: message.text() });
  });
  return {
    all,
    unexpected: (expected = []) => all.filter((p) => !expected.some((re) => re.test(p.text))),
    clear: () => {
      all.length = 0;
    },
  };
}

/** Console errors Chromium prints while the server is down and the client retries. */
export const WEBSOCKET_DOWN_ERRORS: readonly RegExp[] = [
  /WebSocket connection to .* failed/,
  /Failed to load resource: net::ERR_CONNECTION_REFUSED/,
];

/** A Phoenix V2 frame `[join_ref, ref, topic, event, payload]`, as seen on the page's WebSocket. */
export interface SeenFrame {
  readonly direction: 'sent' | 'received';
  readonly event: string;
  readonly topic: string;
  /** Length of the frame's text, in characters. */
  readonly length: number;
}

/**
 * Records the text frames of every WebSocket the page opens, so a test can
 * check what travelled (e.g. that a live patch sent no `phx_join`).
 *
 * @example
 * const frames = recordFrames(page)
 * await page.click('text=Tab B')
 * expect(frames.filter((f) => f.event === 'phx_join')).toEqual([])
 */
export function recordFrames(page: Page): SeenFrame[] {
  const frames: SeenFrame[] = [];
  const record = (direction: SeenFrame['direction'], payload: string | Buffer): void => {
    if (typeof payload !== 'string') return;
    try {
      const [, , topic, event] = JSON.parse(payload) as [unknown, unknown, string, string];
      frames.push({ direction, event, topic, length: payload.length });
    } catch {
      // not a V2 JSON frame
    }
  };
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => record('sent', f.payload));
    ws.on('framereceived', (f) => record('received', f.payload));
  });
  return frames;
}
