// Runs the example app: `npm start`, then open http://localhost:4000 (PORT overrides).
import { createServer } from 'inletjs/node';
import { exampleOptions } from './app.js';

const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? '0.0.0.0';
// The batch page (/uploads/batch) takes up to 10,000 files: their upload joins wait for a free channel.
const server = createServer(exampleOptions({ maxWaitingJoins: 10_000 }));
await server.listen(port, host);
console.log(`Inlet examples on http://localhost:${port}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close().then(() => process.exit(0));
  });
}
