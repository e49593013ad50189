/**
 * `@inletjs/hono`: Inlet in a Hono app served by `@hono/node-server`. The
 * middleware answers Inlet's requests on the Node request and response the
 * node server binds (`c.env.incoming`/`c.env.outgoing`) and tells the
 * server the response is sent; every other request goes on to `next()`.
 * `attach(server)` takes Inlet's WebSocket upgrades on what `serve()`
 * returned. It only translates: the work is `inletjs/http`'s.
 */
import type { Server } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, MiddlewareHandler } from 'hono';
import { createInlet, func, InletOptionError, listenForUpgrades, type Inlet, type InletOptions } from 'inletjs/http';
import type { Session } from 'inletjs';

/**
 * Inlet's options, with `session` reading Hono's context (e.g. `c.get('user')`).
 * @example
 * inletHono({ routes: { '/account': Account }, session: (c) => ({ userId: c.get('user')?.id }) })
 */
export interface HonoInletOptions extends Omit<InletOptions, 'session'> {
  /** Session data for a request, signed into the page and handed to `mount`. Default `{}`. */
  readonly session?: (c: Context<{ Bindings: HttpBindings }>) => Session | Promise<Session>;
}

/**
 * The Hono middleware, with the core and the upgrade hook-up.
 * @example
 * const inlet: HonoInlet = inletHono({ routes })
 * app.use(inlet.middleware)
 * inlet.attach(serve({ fetch: app.fetch, port: 3000 }))
 */
export interface HonoInlet {
  readonly inlet: Inlet;
  /** `app.use(inlet.middleware)`. */
  readonly middleware: MiddlewareHandler<{ Bindings: HttpBindings }>;
  /** Takes Inlet's WebSocket upgrades on `server` (what `serve()` returned). */
  attach(server: Pick<Server, 'on' | 'off' | 'listenerCount'>): void;
  /** Ends Inlet's sockets and stops taking upgrades. The server keeps running. */
  close(): Promise<void>;
}

/**
 * Creates the middleware and its upgrade hook-up.
 *
 * @example
 * const inlet = inletHono({ routes: { '/counter': Counter } })
 * app.use(inlet.middleware)
 * inlet.attach(serve({ fetch: app.fetch, port: 3000 }))
 */
export function inletHono(options: HonoInletOptions): HonoInlet {
  const { session, ...rest } = options;
  const inlet = createInlet(rest, { session: func });
  const started = inlet.start();
  const detach: (() => void)[] = [];
  const middleware: MiddlewareHandler<{ Bindings: HttpBindings }> = async (c, next) => {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) {
      throw new InletOptionError('@inletjs/hono', 'needs the app to be served by @hono/node-server (c.env.incoming is missing).');
    }
    await started;
    const responder = await inlet.route(incoming, session ? { session: () => session(c) } : {});
    if (!responder) return next();
    await responder(outgoing);
    return RESPONSE_ALREADY_SENT;
  };
  return {
    inlet,
    middleware,
    attach(server) {
      detach.push(listenForUpgrades(server, inlet));
    },
    async close() {
      for (const stop of detach.splice(0)) stop();
      await inlet.close();
    },
  };
}
