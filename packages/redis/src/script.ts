/**
 * Lua scripts run by EVALSHA (one round trip), falling back to EVAL when the
 * server does not know the script yet (first use, or after a restart, which
 * empties Redis's script cache).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/** A Lua script and its SHA1. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script with `keys` and `args` and returns Redis's reply. */
  async run(client: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, { keys, arguments: args });
    }
  }
}
