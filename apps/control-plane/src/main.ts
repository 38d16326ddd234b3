import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { createLogger } from './logging.js';
import { initTracing } from '@semibot/telemetry';

const startedAt = performance.now();
const config = loadConfig();
const logger = createLogger(config.logLevel, 'control-plane');
const tracing = await initTracing('semibot-control-plane');
const app = await createApp(config, logger);
const address = await app.listen();
logger.info({ address, db: app.ctx.db.kind, ms: Math.round(performance.now() - startedAt) }, `Semibot control plane ready on ${address}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.close().then(() => tracing.shutdown()).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
