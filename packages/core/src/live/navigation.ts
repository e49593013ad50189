/**
 * A view instance's navigation: whether a URL is a route of the same view
 * (so a patch stays in it) and the redirect outcome of any other navigation.
 */
import type { Outcome } from './instance-types.js';
import type { RouteMatch, Router } from './router.js';
import type { Navigation } from './socket.js';
import type { LiveView } from './view.js';

/**
 * Most patches `handleParams` may chain without a render (a patch whose
 * handleParams patches again, …); one more crashes the view, as in Phoenix.
 */
export const MAX_PATCH_CHAIN = 20;

/** The route of `target` if it is one of `view`'s (a patch stays in the view), else undefined. */
export function ownRoute(router: Router<LiveView<object>>, view: LiveView<object>, target: URL): RouteMatch<LiveView<object>> | undefined {
  const match = router.match(target.pathname);
  if (!match || match.view !== view) return undefined;
  return match;
}

/** Sets the outcome's `live_redirect` (navigate) or `redirect` for `nav`, with the flash signed when there is any. */
export function redirectOutcome(outcome: Outcome, nav: Navigation, flash: Record<string, string>, signFlash?: (flash: Record<string, string>) => string): void {
  const signed = Object.keys(flash).length > 0 ? signFlash?.(flash) : undefined;
  if (nav.kind === 'navigate') outcome.live_redirect = { to: nav.to, kind: nav.replace ? 'replace' : 'push', ...(signed ? { flash: signed } : {}) };
  else outcome.redirect = { to: nav.to, ...(signed ? { flash: signed } : {}) };
}
