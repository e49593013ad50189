/**
 * Maps URL paths to views. Patterns are literal segments and `:name`
 * parameters, e.g. `/users/:id`.
 */
import { InletError } from '../errors.js';

export interface RouteMatch<V> {
  readonly view: V;
  readonly pattern: string;
  readonly params: Record<string, string>;
}

interface Compiled<V> {
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly view: V;
}

/**
 * @example
 * const router = new Router({ '/': Home, '/users/:id': User })
 * router.match('/users/7') // { view: User, params: { id: '7' } }
 */
export class Router<V> {
  readonly #routes: Compiled<V>[];

  constructor(routes: Record<string, V>) {
    this.#routes = Object.entries(routes).map(([pattern, view]) => {
      if (!pattern.startsWith('/')) throw new InletError('INLET_ERR_ROUTE_INVALID', `"${pattern}" must start with "/".`);
      return { pattern, segments: split(pattern), view };
    });
  }

  match(pathname: string): RouteMatch<V> | undefined {
    const parts = split(pathname);
    for (const route of this.#routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = route.segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith(':')) {
          try {
            params[seg.slice(1)] = decodeURIComponent(part);
          } catch {
            ok = false;
          }
        } else ok = seg === part;
      }
      if (ok) return { view: route.view, pattern: route.pattern, params };
    }
    return undefined;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
