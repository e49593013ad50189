/**
 * The setup of the e2e files that upload: a temp folder per file (the
 * example app's store, its upload temp folder and the files a test picks),
 * one Chromium and one example server per file, a fresh page (or context and
 * page) per test, the page's errors checked after each test, and all of it
 * closed and removed at the end. `browserSuite` (./suite.ts) is the same for
 * files that need no folders.
 *
 * A file adds its own hooks after calling it: its `beforeEach` runs after the
 * page exists, its `afterEach` before the errors are checked and the page
 * closed (vitest runs after-hooks in reverse order).
 *
 * @example
 * const s = uploadSuite({ prefix: 'inlet-e2e-up-' })
 * it('saves', async () => { await gotoLive(s.page, `${s.server.url}/uploads`) })
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { InletServer } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { closeWithin, collectPageErrors, launchBrowser, startExample, type ExampleOverrides, type PageErrors } from './browser.js';

/** A file's folders: `store` (the app's uploads), `uploadTmp` (its temp folder), `files` (sources to pick), all under `root`. */
export interface UploadSuiteDirs {
  readonly root: string;
  readonly store: string;
  readonly uploadTmp: string;
  readonly files: string;
}

export interface UploadSuite extends UploadSuiteDirs {
  readonly browser: Browser;
  /** The example server; a test that restarts it assigns the new one here, and that one is closed at the end. */
  server: InletServer;
  /** The test's own context (with `perTest: 'context'`), else the browser's default one. */
  readonly context: BrowserContext;
  readonly page: Page;
  readonly errors: PageErrors;
}

export interface UploadSuiteOptions {
  /** Prefix of the temp folder (under the OS temp folder). */
  readonly prefix: string;
  /** More server options, over `{ storeRoot: store, uploadTmpDir: uploadTmp }`. */
  readonly server?: (dirs: UploadSuiteDirs) => ExampleOverrides;
  /** `'page'`: `browser.newPage()` per test; `'context'`: a new context and a page in it. Default `'page'`. */
  readonly perTest?: 'page' | 'context';
  /** Page errors a test may cause (see `PageErrors.unexpected`); default none. */
  readonly expectedErrors?: readonly RegExp[];
  /** Empties the store before each test. Default `true`. */
  readonly cleanStore?: boolean;
}

/**
 * Registers the hooks described above and returns their state, filled in
 * as they run.
 *
 * @example
 * const s = uploadSuite({ prefix: 'inlet-e2e-lp-', perTest: 'context', cleanStore: false })
 */
export function uploadSuite(options: UploadSuiteOptions): UploadSuite {
  const { perTest = 'page', expectedErrors = [], cleanStore = true } = options;
  const s = {} as { -readonly [K in keyof UploadSuite]: UploadSuite[K] };
  beforeAll(async () => {
    s.root = await mkdtemp(join(tmpdir(), options.prefix));
    s.store = join(s.root, 'store');
    s.uploadTmp = join(s.root, 'tmp');
    s.files = join(s.root, 'src');
    await mkdir(s.files);
    s.browser = await launchBrowser();
    s.server = await startExample({ storeRoot: s.store, uploadTmpDir: s.uploadTmp, ...options.server?.(s) } as ExampleOverrides);
  });
  afterAll(async () => {
    await s.browser?.close();
    await s.server?.close();
    if (s.root) await rm(s.root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    if (perTest === 'context') {
      s.context = await s.browser.newContext();
      s.page = await s.context.newPage();
    } else {
      s.page = await s.browser.newPage();
      s.context = s.page.context();
    }
    s.errors = collectPageErrors(s.page);
    if (cleanStore) await rm(s.store, { recursive: true, force: true });
  });
  afterEach(async () => {
    try {
      expect(s.errors.unexpected(expectedErrors)).toEqual([]);
    } finally {
      // Closed whatever the check found.
      await closeWithin(perTest === 'context' ? s.context : s.page);
    }
  });
  return s;
}
