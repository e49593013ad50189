/**
 * The framework core, free of HTTP and WebSocket code: routes, tokens,
 * pubsub, the HTTP (dead) render of a page and the channel router the
 * socket transport uses. `http/` serves it; `node/` and the adapters mount that.
 */
import type { IncomingMessage } from 'node:http';
import { InletError } from '../errors.js';
import { createLogger, logFunction, type Logger } from '../logger.js';
import { escapeHtml } from '../render/escape.js';
import type { ChannelRouter } from '../protocol/channel.js';
import { routeChannels, type AppServices, type ChannelKind, type ViewExtension } from './extensions.js';
import { ViewInstance } from './instance.js';
import type { Colocated } from '../render/colocated.js';
import { ColocatedRegistry } from './colocated.js';
import { joinLiveChannel } from './live-channel.js';
import type { Params } from './params.js';
import { MemoryPubSub, type PubSub } from './pubsub.js';
import { containerTags, TOKEN_PURPOSE, type SessionToken, type StaticToken } from './markup.js';
import { Router, type RouteTarget } from './router.js';
import { randomId, Signer } from './tokens.js';
import type { Flash } from './socket.js';
import type { LiveView, Session } from './view.js';

/** How long the tokens of a rendered page stay joinable. */
export const DEFAULT_SESSION_TTL_MS = 24 * 60 * 60_000;

/**
 * What a layout receives.
 * @example
 * const layout: Layout = ({ title, csrfToken, content, scripts, session }) =>
 *   `<!doctype html><html><head><title>${title ?? 'App'}</title><meta name="csrf-token" content="${csrfToken}"></head>` +
 *   `<body><header>${escapeHtml(String(session.user ?? ''))}</header>${content}${scripts}</body></html>`
 */
export interface LayoutContext {
  /** The page title a view set, if any. */
  readonly title: string | undefined;
  /** For `<meta name="csrf-token">`. */
  readonly csrfToken: string;
  /** The root live container, HTML ready to insert in `<body>`. */
  readonly content: string;
  /** `<script>` tags that load the client and connect. */
  readonly scripts: string;
  /** The session the page was rendered with (what `mount` got), e.g. to show the signed-in user. */
  readonly session: Session;
  /** The page's URL. */
  readonly url: URL;
  /**
   * The HTTP request (with an adapter, the framework's own request object,
   * which is Node's `IncomingMessage` underneath). Undefined in
   * `inletjs/testing`.
   */
  readonly request: IncomingMessage | undefined;
}

/**
 * Renders the whole HTML page around a view.
 * @example
 * createServer({ routes, layout: ({ csrfToken, content, scripts }) =>
 *   `<!doctype html><html><head><meta name="csrf-token" content="${csrfToken}"></head><body>${content}${scripts}</body></html>` })
 */
export type Layout = (ctx: LayoutContext) => string;

/** The default client boot script: loads the bundle and connects. */
export function defaultScripts(clientPath: string): string {
  return `<script type="module">import { connect } from ${JSON.stringify(clientPath)}; window.liveSocket = connect();</script>`;
}

/**
 * The default page: charset, viewport, CSRF meta tag, title, the client
 * script and the live container.
 *
 * @example
 * // the default page, with a stylesheet of the app's own
 * createServer({ routes, layout: (ctx) => defaultLayout(ctx).replace('</head>', '<link rel="stylesheet" href="/app.css"></head>') })
 */
export const defaultLayout: Layout = (ctx) =>
  `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<meta name="csrf-token" content="${escapeHtml(ctx.csrfToken)}">
<title>${escapeHtml(ctx.title ?? 'Inlet')}</title>
${ctx.scripts}
</head>
<body>
${ctx.content}
</body>
</html>`;

export interface LiveAppOptions {
  readonly routes: Record<string, RouteTarget<LiveView<object>>>;
  readonly secret: string;
  readonly pubsub?: PubSub;
  readonly layout?: Layout;
  /** Per-view extensions (e.g. uploads), created for every view instance. */
  readonly extensions?: readonly ViewExtension[];
  /** Channel kinds served besides the app's own `lv:` views (e.g. `lvu:` upload channels). */
  readonly channels?: readonly ChannelKind[];
  /** Path the client bundle is served at. */
  readonly clientPath: string;
  /** Custom `<script>` tags replacing the default boot script (for hooks, uploaders). */
  readonly scripts?: string;
  /** Colocated hooks and scripts every page loads, besides those the routed views list. */
  readonly hooks?: readonly Colocated[];
  readonly sessionTtlMs?: number;
  /** Where the app logs (records carry `view`, `event`, `topic`…); default: the built-in stderr logger. */
  readonly logger?: Logger;
}

/** The result of an HTTP render. */
export type PageResult =
  | { readonly status: 200; readonly html: string }
  | { readonly status: 302; readonly location: string }
  | { readonly status: 404 };

/** What the HTTP layer read from the request besides the URL and session. */
export interface PageInput {
  /** Flash carried across a redirect (the `__phoenix_flash__` cookie), already verified. */
  readonly flash?: Flash;
  /** The HTTP request, for the layout (undefined in `inletjs/testing`). */
  readonly request?: IncomingMessage;
}

export class LiveApp implements AppServices {
  readonly router: Router<LiveView<object>>;
  readonly signer: Signer;
  readonly pubsub: PubSub;
  readonly extensions: readonly ViewExtension[];
  readonly logger: Logger;
  /** Older form: `logger.error` with `error` as `err` and no other context. Prefer `logger`. */
  readonly log: (message: string, error?: unknown) => void;
  /** Routes socket topics to channels: `lv:*` views, then the registered kinds. */
  readonly channelRouter: ChannelRouter;
  /** Colocated hooks and scripts, served as one script to every page. */
  readonly colocated: ColocatedRegistry;
  readonly #options: LiveAppOptions;
  readonly #viewKeys = new WeakMap<object, string>();
  readonly #views = new Map<string, LiveView<object>>();
  #unnamed = 0;

  constructor(options: LiveAppOptions) {
    this.#options = options;
    this.router = new Router(options.routes);
    this.signer = new Signer(options.secret);
    this.pubsub = options.pubsub ?? new MemoryPubSub();
    this.extensions = options.extensions ?? [];
    this.logger = options.logger ?? createLogger();
    this.log = logFunction(this.logger);
    this.colocated = new ColocatedRegistry((m) => this.logger.warn({}, m));
    this.colocated.add(options.hooks ?? []);
    for (const { pattern, route } of this.router.routes) if (!this.#viewKeys.has(route.view)) this.#register(route.view, route.view.name ?? pattern);
    const live: ChannelKind = { prefix: 'lv:', join: (payload, ctx) => joinLiveChannel(this, payload, ctx) };
    this.channelRouter = routeChannels([live, ...(options.channels ?? [])], this);
  }

  #register(view: LiveView<object>, key: string): string {
    const taken = this.#views.get(key);
    if (taken && taken !== view) throw new InletError('INLET_ERR_VIEW_INVALID', `two different views are named "${key}".`);
    this.#views.set(key, view);
    this.#viewKeys.set(view, key);
    this.colocated.add(view.hooks ?? []);
    return key;
  }

  /**
   * The key a view is known by in tokens: its `name`, else the pattern of
   * its first route, else a key given the first time it is rendered here.
   */
  viewKey(view: LiveView<object>): string {
    return this.#viewKeys.get(view) ?? this.#register(view, view.name ?? `inlet-view-${++this.#unnamed}`);
  }

  /** The view a token's key names, if this process knows it. */
  viewByKey(key: unknown): LiveView<object> | undefined {
    return typeof key === 'string' ? this.#views.get(key) : undefined;
  }

  /** How long the tokens of a rendered page stay joinable. */
  get tokenTtlMs(): number {
    return this.#options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  /** The CSRF token for a browser identified by `csrfSecret` (a random cookie value). */
  csrfToken(csrfSecret: string): string {
    return this.signer.digest('csrf', csrfSecret);
  }

  /** Whether a connect request's `_csrf_token` matches its cookie secret. */
  csrfValid(csrfSecret: string | undefined, token: string | undefined): boolean {
    return typeof csrfSecret === 'string' && csrfSecret.length > 0 && typeof token === 'string' && token === this.csrfToken(csrfSecret);
  }

  /** Renders a page over HTTP: mount (not connected), handleParams, render, layout. */
  async renderPage(url: URL, session: Session, csrfToken: string, input: PageInput = {}): Promise<PageResult> {
    const match = this.router.match(url.pathname);
    if (!match) return { status: 404 };
    const id = `phx-${randomId(9)}`;
    const instance = new ViewInstance({
      id,
      view: match.view,
      url,
      session,
      csrfToken,
      connected: false,
      onMount: match.onMount,
      children: this,
      ...(match.action !== undefined ? { liveAction: match.action } : {}),
      router: this.router,
      pubsub: this.pubsub,
      app: this,
      extensions: this.extensions,
    });
    const params: Params = { ...Object.fromEntries(url.searchParams), ...match.params };
    try {
      const nav = await instance.mount(params, input.flash);
      if (nav && nav.kind !== 'patch') return { status: 302, location: nav.to };
      if (nav?.kind === 'patch') {
        const outcome = await instance.finish();
        const to = outcome.redirect?.to ?? outcome.live_redirect?.to;
        if (to) return { status: 302, location: to };
      }
      const { html, title } = await instance.renderHtml();
      const ttl = this.tokenTtlMs;
      const token: SessionToken = { id, s: session, v: this.viewKey(match.view), ls: match.liveSession };
      const flash = instance.socket.assigns.flash;
      const stat: StaticToken = Object.keys(flash).length > 0 ? { id, f: flash } : { id };
      const tags = containerTags(match.container ?? match.view.container, [
        ['id', id],
        ['data-phx-main', true],
        ['data-phx-session', this.signer.sign(TOKEN_PURPOSE.SESSION, token, ttl)],
        ['data-phx-static', this.signer.sign(TOKEN_PURPOSE.STATIC, stat, ttl)],
      ]);
      const content = tags.open + html + tags.close;
      const layout = this.#options.layout ?? defaultLayout;
      return {
        status: 200,
        html: layout({
          title,
          csrfToken,
          content,
          // The colocated script is deferred like the module boot script and runs before it.
          scripts: this.colocated.scriptTag() + (this.#options.scripts ?? defaultScripts(this.#options.clientPath)),
          session,
          url,
          request: input.request,
        }),
      };
    } finally {
      await instance.stop();
    }
  }
}
