// Standalone mock model server for the offline demo and benchmarks: PORT / HOST from the env.
import { startMockLlm } from './server.js';

const port = Number(process.env.PORT ?? 8090);
const host = process.env.HOST ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`mock-llm: invalid PORT "${process.env.PORT}"`);
  process.exit(1);
}

const mock = await startMockLlm({ port, host });
console.log(`mock-llm listening on ${mock.url}`);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  mock.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
