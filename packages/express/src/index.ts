/**
 * `@inletjs/express`: Inlet in an Express 5 app. The middleware answers
 * Inlet's requests (live routes, the client bundle, static folders, the
 * chunk receiver) and passes every other request on with `next()`;
 * `attach(server)` takes Inlet's WebSocket upgrades on the server
 * `app.listen()` returned. It only translates: the work is `inletjs/http`'s.
 */
import type { Server } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createInlet, func, listenForUpgrades, type Inlet, type InletOptions } from 'inletjs/http';
import type { Session } from 'inletjs';

/**
 * Inlet's options, with `session` reading Express's request (e.g. `req.session`, `req.user`).
 * @example
 * inletExpress({ routes: { '/account': Account }, session: (req) => ({ userId: req.user?.id }) })
 */
export interface ExpressInletOptions extends Omit<InletOptions, 'session'> {
  /** Session data for a request, signed into the page and handed to `mount`. Default `{}`. */
  readonly session?: (req: Request) => Session | Promise<Session>;
}

/**
 * The Express middleware, with the core and the upgrade hook-up.
 * @example
 * const inlet: ExpressInlet = inletExpress({ routes })
 * app.use(inlet)
 * inlet.attach(app.listen(3000))
 */
export interface ExpressInlet extends RequestHandler {
  readonly inlet: Inlet;
  /** Takes Inlet's WebSocket upgrades on `server` (what `app.listen()` returned). */
  attach(server: Server): void;
  /** Ends Inlet's sockets and stops taking upgrades. The server keeps running. */
  close(): Promise<void>;
}

/**
 * Creates the middleware. Mount it with `app.use` (before or after your own
 * routes: it passes on what is not Inlet's), then attach the server.
 *
 * @example
 * const inlet = inletExpress({ routes: { '/counter': Counter } })
 * app.use(inlet)
 * inlet.attach(app.listen(3000))
 */
export function inletExpress(options: ExpressInletOptions): ExpressInlet {
  const { session, ...rest } = options;
  const inlet = createInlet(rest, { session: func });
  const started = inlet.start();
  const detach: (() => void)[] = [];
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    started
      .then(() => inlet.route(req, session ? { session: () => session(req) } : {}))
      .then((responder) => (responder ? responder(res) : next()))
      .catch(next);
  };
  return Object.assign(middleware, {
    inlet,
    attach(server: Server) {
      detach.push(listenForUpgrades(server, inlet));
    },
    async close() {
      for (const stop of detach.splice(0)) stop();
      await inlet.close();
    },
  });
}
