/**
 * `@inletjs/koa`: Inlet in a Koa 3 app. The middleware answers Inlet's
 * requests (live routes, the client bundle, static folders, the chunk
 * receiver) on `ctx.req`/`ctx.res` with `ctx.respond = false`, and awaits
 * `next()` for every other request; `attach(server)` takes Inlet's
 * WebSocket upgrades. It only translates: the work is `inletjs/http`'s.
 */
import type { Server } from 'node:http';
import type { Context, Middleware, Next } from 'koa';
import { createInlet, func, listenForUpgrades, type Inlet, type InletOptions } from 'inletjs/http';
import type { Session } from 'inletjs';

/**
 * Inlet's options, with `session` reading Koa's context (e.g. `ctx.state.user`).
 * @example
 * inletKoa({ routes: { '/account': Account }, session: (ctx) => ({ userId: ctx.state.user?.id }) })
 */
export interface KoaInletOptions extends Omit<InletOptions, 'session'> {
  /** Session data for a request, signed into the page and handed to `mount`. Default `{}`. */
  readonly session?: (ctx: Context) => Session | Promise<Session>;
}

/**
 * The Koa middleware, with the core and the upgrade hook-up.
 * @example
 * const inlet: KoaInlet = inletKoa({ routes })
 * app.use(inlet.middleware)
 * inlet.attach(app.listen(3000))
 */
export interface KoaInlet {
  readonly inlet: Inlet;
  /** `app.use(inlet.middleware)`. */
  readonly middleware: Middleware;
  /** Takes Inlet's WebSocket upgrades on `server` (what `app.listen()` returned). */
  attach(server: Server): void;
  /** Ends Inlet's sockets and stops taking upgrades. The server keeps running. */
  close(): Promise<void>;
}

/**
 * Creates the middleware and its upgrade hook-up.
 *
 * @example
 * const inlet = inletKoa({ routes: { '/counter': Counter } })
 * app.use(inlet.middleware)
 * inlet.attach(app.listen(3000))
 */
export function inletKoa(options: KoaInletOptions): KoaInlet {
  const { session, ...rest } = options;
  const inlet = createInlet(rest, { session: func });
  const started = inlet.start();
  const detach: (() => void)[] = [];
  const middleware = async (ctx: Context, next: Next): Promise<void> => {
    await started;
    const responder = await inlet.route(ctx.req, session ? { session: () => session(ctx) } : {});
    if (!responder) {
      await next();
      return;
    }
    ctx.respond = false;
    await responder(ctx.res);
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
