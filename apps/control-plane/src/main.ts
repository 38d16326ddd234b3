import { loadConfig } from './config.js';
import { openDb } from './db/db.js';

const startedAt = performance.now();
const config = loadConfig();
// The database boots (embedded: on its own thread, from a copied template on a fresh home) while
// this thread loads the rest of the server: start-up is the longer of the two, not their sum.
const since = () => Math.round(performance.now() - startedAt);
const database = openDb({ databaseUrl: config.databaseUrl, home: config.home });
database.catch(() => {}); // reported by createApp, which awaits it
let databaseMs: number | null = null;
void database.then(() => (databaseMs = since()), () => {});
const [{ createApp }, { createLogger }, { initTracing }] = await Promise.all([
  import('./app.js'),
  import('./logging.js'),
  import('@semibot/telemetry'),
]);
const modulesMs = since();
const logger = createLogger(config.logLevel, 'control-plane');
const tracing = await initTracing('semibot-control-plane');
const app = await createApp(config, logger, database);
const address = await app.listen();
// where start-up went (ms since start): the database and the server's modules load side by side
logger.info({ address, db: app.ctx.db.kind, ms: since(), databaseMs, modulesMs }, `Semibot control plane ready on ${address}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // embedded there is nobody to hand runs to: they are resumed by the next start instead
    const drain = app.ctx.cluster.distributed ? app.drain() : Promise.resolve();
    drain.then(() => app.close()).then(() => tracing.shutdown()).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
