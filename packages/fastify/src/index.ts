/**
 * `@inletjs/fastify`: Inlet as a Fastify 5 plugin. An `onRequest` hook
 * answers Inlet's requests (live routes, the client bundle, static folders,
 * the chunk receiver) with `reply.hijack()` before Fastify reads a body, and
 * lets every other request through to Fastify's routes; Inlet's WebSocket
 * upgrades are taken on `fastify.server`, and `fastify.close()` closes
 * Inlet. Inlet logs through `fastify.log` unless given a logger. It only
 * translates: the work is `inletjs/http`'s.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createInlet, func, listenForUpgrades, type Inlet, type InletOptions, type Schema } from 'inletjs/http';
import type { Logger, Session } from 'inletjs';

/**
 * Inlet's options, with `session` reading Fastify's request (e.g. `request.session`, `request.user`).
 * @example
 * await app.register(inletFastify, { routes: { '/account': Account }, session: (request) => ({ userId: request.user?.id }) })
 */
export interface FastifyInletOptions extends Omit<InletOptions, 'session'> {
  /** Session data for a request, signed into the page and handed to `mount`. Default `{}`. */
  readonly session?: (request: FastifyRequest) => Session | Promise<Session>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The Inlet core `@inletjs/fastify` registered. */
    readonly inlet: Inlet;
  }
}

/** Options Fastify's `register` itself takes; they are not Inlet's. */
const REGISTER_OPTIONS: Schema = { prefix: () => undefined, logLevel: () => undefined, logSerializers: () => undefined };

async function plugin(fastify: FastifyInstance, options: FastifyInletOptions): Promise<void> {
  const { session, prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...rest } = options as FastifyInletOptions & Record<string, unknown>;
  const logger: Logger | NonNullable<InletOptions['logger']> = rest.logger ?? fastify.log.child({ name: 'inlet' });
  const inlet = createInlet({ ...rest, logger }, { ...REGISTER_OPTIONS, session: func });
  await inlet.start();
  fastify.decorate('inlet', inlet);
  fastify.addHook('onRequest', async (request, reply) => {
    const responder = await inlet.route(request.raw, session ? { session: () => session(request) } : {});
    if (!responder) return;
    reply.hijack();
    await responder(reply.raw);
  });
  const stopUpgrades = listenForUpgrades(fastify.server, inlet);
  fastify.addHook('onClose', async () => {
    stopUpgrades();
    await inlet.close();
  });
}

// Not encapsulated (as fastify-plugin would do): the hook sees every route of the app.
Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });
Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: '@inletjs/fastify' });

/**
 * The plugin. Register it once, at the root.
 *
 * @example
 * const app = Fastify()
 * await app.register(inletFastify, { routes: { '/counter': Counter } })
 * app.get('/api/health', async () => ({ ok: true }))
 * await app.listen({ port: 3000 })
 */
export const inletFastify: FastifyPluginAsync<FastifyInletOptions> = plugin;
export default inletFastify;
