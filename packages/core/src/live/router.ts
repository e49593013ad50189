/**
 * Maps URL paths to views. Patterns are literal segments and `:name`
 * parameters, e.g. `/users/:id`. A route is a view, or a {@link liveRoute}
 * carrying its live action and container; {@link liveSession} groups routes
 * that live navigation may move between over the same socket.
 */
import { InletError } from '../errors.js';
import type { Params } from './params.js';
import type { LiveViewSocket } from './socket.js';

/**
 * The live session of routes outside any {@link liveSession} (Phoenix names it `:default` too).
 *
 * @example
 * // '/' and '/about' are in no liveSession(): both are in DEFAULT_LIVE_SESSION, so live navigation between them stays on the socket
 * createServer({ routes: { '/': Home, '/about': About, ...liveSession('admin', { '/admin': Dashboard }) } })
 */
export const DEFAULT_LIVE_SESSION = 'default';

/**
 * A root container: the tag and attributes the view's element gets instead of a bare `<div>`.
 *
 * @example
 * const container: Container = ['main', { class: 'page', 'data-theme': 'dark' }]
 * routes: { '/': liveRoute(Home, { container }) }
 */
export type Container = readonly [tag: string, attrs?: Readonly<Record<string, string | boolean>>];

const ROUTE_BRAND = Symbol.for('inlet.route');

/**
 * Options of one route.
 *
 * @example
 * const edit: RouteOptions = { action: 'edit', container: ['main', { class: 'editor' }] }
 * routes: { '/posts/:id/edit': liveRoute(Posts, edit) }
 */
export interface RouteOptions {
  /** The route's live action (Phoenix's `@live_action`), e.g. `'show'`; see `socket.liveAction`. */
  readonly action?: string;
  /** The view's root element, e.g. `['main', { class: 'page' }]`. Default: the view's own, else `div`. */
  readonly container?: Container;
}

/**
 * What a live session runs before each of its views' `mount` (Phoenix's `on_mount`).
 *
 * @example
 * const requireUser: OnMount = (socket, session) => { if (!session.userId) socket.redirect('/login') }
 * routes: { ...liveSession('app', { '/inbox': Inbox }, { onMount: requireUser }) }
 */
export type OnMount = (socket: LiveViewSocket<object>, session: Readonly<Record<string, unknown>>, params: Params) => void | Promise<void>;

/**
 * A route: a view plus its options; made by {@link liveRoute} or {@link liveSession}.
 *
 * @example
 * const show: LiveRoute<typeof Posts> = liveRoute(Posts, { action: 'show' })
 * show.view === Posts // true; show.action === 'show'
 */
export interface LiveRoute<V> extends RouteOptions {
  readonly [ROUTE_BRAND]: true;
  readonly view: V;
  /** The live session the route belongs to; undefined outside any. */
  readonly liveSession?: string;
  /** Hooks the live session runs before `mount`, in order. */
  readonly onMount?: readonly OnMount[];
}

/** What a route table maps a pattern to. */
export type RouteTarget<V> = V | LiveRoute<V>;

/** Whether `value` is a {@link LiveRoute}. */
export function isLiveRoute<V>(value: unknown): value is LiveRoute<V> {
  return typeof value === 'object' && value !== null && (value as Partial<LiveRoute<V>>)[ROUTE_BRAND] === true;
}

/**
 * A route with options: its live action and root container.
 *
 * @example
 * routes: {
 *   '/posts': liveRoute(Posts, { action: 'index' }),
 *   '/posts/:id': liveRoute(Posts, { action: 'show' }),
 * }
 */
export function liveRoute<V>(view: V, options: RouteOptions = {}): LiveRoute<V> {
  if (isLiveRoute(view)) throw new InletError('INLET_ERR_ROUTE_INVALID', 'liveRoute() takes a view, not another route.');
  checkContainer(options.container);
  return Object.freeze({ [ROUTE_BRAND]: true as const, view, ...options });
}

/**
 * Options of a {@link liveSession}.
 *
 * @example
 * const admin: LiveSessionOptions = { onMount: [loadUser, requireAdmin] } // run in order before each mount
 * routes: { ...liveSession('admin', { '/admin': Dashboard }, admin) }
 */
export interface LiveSessionOptions {
  /** Runs before the `mount` of every view of the session, on the HTTP render and on each join. A redirect asked for here stops the mount. */
  readonly onMount?: OnMount | readonly OnMount[];
}

/**
 * Groups routes into a named live session: live navigation (`pushNavigate`,
 * `<a data-phx-link="redirect">`) stays on the socket only between routes of
 * one session; across sessions the browser loads the page instead. Routes
 * outside any session form the session `"default"`.
 *
 * @example
 * routes: {
 *   '/': Home,
 *   ...liveSession('admin', { '/admin': Dashboard, '/admin/users/:id': liveRoute(User, { action: 'edit' }) }, {
 *     onMount: (socket, session) => { if (!session.admin) socket.redirect('/login') },
 *   }),
 * }
 */
export function liveSession<V>(
  name: string,
  routes: Record<string, RouteTarget<V>>,
  options: LiveSessionOptions = {},
): Record<string, LiveRoute<V>> {
  if (typeof name !== 'string' || name.length === 0) throw new InletError('INLET_ERR_ROUTE_INVALID', 'A live session needs a name.');
  const hooks = options.onMount === undefined ? [] : typeof options.onMount === 'function' ? [options.onMount] : [...options.onMount];
  for (const hook of hooks) if (typeof hook !== 'function') throw new InletError('INLET_ERR_ROUTE_INVALID', `live session "${name}": onMount must be functions.`);
  const out: Record<string, LiveRoute<V>> = {};
  for (const [pattern, target] of Object.entries(routes)) {
    const route = isLiveRoute<V>(target) ? target : liveRoute(target);
    if (route.liveSession !== undefined) {
      throw new InletError('INLET_ERR_ROUTE_INVALID', `"${pattern}" is already in live session "${route.liveSession}"; live sessions do not nest.`);
    }
    out[pattern] = Object.freeze({ ...route, liveSession: name, onMount: hooks });
  }
  return out;
}

function checkContainer(container: Container | undefined): void {
  if (container === undefined) return;
  if (!Array.isArray(container) || typeof container[0] !== 'string' || !/^[a-zA-Z][a-zA-Z0-9-]*$/.test(container[0])) {
    throw new InletError('INLET_ERR_ROUTE_INVALID', 'A container is [tag, attrs?], e.g. ["main", { class: "page" }].');
  }
}

export interface RouteMatch<V> {
  readonly view: V;
  readonly pattern: string;
  readonly params: Record<string, string>;
  /** The live session's name ({@link DEFAULT_LIVE_SESSION} outside any). */
  readonly liveSession: string;
  readonly action?: string;
  readonly container?: Container;
  readonly onMount: readonly OnMount[];
}

interface Compiled<V> {
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly route: LiveRoute<V>;
}

/**
 * @example
 * const router = new Router({ '/': Home, '/users/:id': User })
 * router.match('/users/7') // { view: User, params: { id: '7' }, liveSession: 'default', … }
 */
export class Router<V> {
  readonly #routes: Compiled<V>[];

  constructor(routes: Record<string, RouteTarget<V>>) {
    this.#routes = Object.entries(routes).map(([pattern, target]) => {
      if (!pattern.startsWith('/')) throw new InletError('INLET_ERR_ROUTE_INVALID', `"${pattern}" must start with "/".`);
      return { pattern, segments: split(pattern), route: isLiveRoute<V>(target) ? target : liveRoute(target) };
    });
  }

  /** Every route, in table order. */
  get routes(): readonly { readonly pattern: string; readonly route: LiveRoute<V> }[] {
    return this.#routes;
  }

  match(pathname: string): RouteMatch<V> | undefined {
    const parts = split(pathname);
    for (const { pattern, segments, route } of this.#routes) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith(':')) {
          try {
            params[seg.slice(1)] = decodeURIComponent(part);
          } catch {
            ok = false;
          }
        } else ok = seg === part;
      }
      if (ok) {
        return {
          view: route.view,
          pattern,
          params,
          liveSession: route.liveSession ?? DEFAULT_LIVE_SESSION,
          onMount: route.onMount ?? [],
          ...(route.action !== undefined ? { action: route.action } : {}),
          ...(route.container !== undefined ? { container: route.container } : {}),
        };
      }
    }
    return undefined;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
