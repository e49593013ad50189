// The Inlet side of bench/batch.mjs: the example app (with /uploads/batch) on a
// free port, in its own process so its RSS is the server's alone. Prints
// `READY <url>` on stdout, then on each line `rss` read from stdin answers
// `RSS <current bytes> <peak bytes>` (the peak sampled every 50 ms).
//
//   node --import ./test/fuzz/register-ts.mjs bench/batch-server.mjs <storeRoot> [maxUploadChannels]
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { createServer } from 'inletjs/node';
import { exampleOptions } from '../examples/app.js';

const storeRoot = process.argv[2];
// Optional third argument: upload channels per view (the socket gets that many plus 50).
const channels = process.argv[3] ? Number(process.argv[3]) : undefined;
const limits = { maxWaitingJoins: 10_000, ...(channels ? { maxUploadChannels: channels, maxChannels: channels + 50 } : {}) };
// INLET_BATCH_IDLE_MS: the socket idle timeout (default: the server's).
if (process.env.INLET_BATCH_IDLE_MS) limits.idleTimeoutMs = Number(process.env.INLET_BATCH_IDLE_MS);
const server = createServer(exampleOptions({ storeRoot, uploadTmpDir: join(storeRoot, 'tmp'), ...limits }));
await server.listen(0, '127.0.0.1');
let peak = process.memoryUsage().rss;
setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50).unref();
process.stdout.write(`READY ${server.url}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'rss') process.stdout.write(`RSS ${process.memoryUsage().rss} ${peak}\n`);
  if (line.trim() === 'reset') peak = process.memoryUsage().rss;
}
await server.close();
process.exit(0);
