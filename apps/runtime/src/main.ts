#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { startDaemon } from './daemon.js';

/**
 * `semibot-runtime`: the execution-plane daemon, credentials in the environment (the control plane
 * starts it so in process mode; an operator starts pool planes so). `semibot-runtime connect ...`
 * runs it on a user's own machine instead (connect.ts).
 */
if (process.argv[2] === 'connect') {
  await import('./connect.js');
} else {
  const env = process.env;
  const required = (name: string) => {
    const v = env[name];
    if (!v) {
      process.stderr.write(`semibot-runtime: ${name} is required (or run \`semibot-runtime connect --help\`)\n`);
      process.exit(2);
    }
    return v;
  };
  const url = required('SEMIBOT_CONTROL_URL');
  // a pool plane's credential may come from a file (a Kubernetes or compose secret volume)
  const token = env.SEMIBOT_VM_TOKEN_FILE ? readFileSync(env.SEMIBOT_VM_TOKEN_FILE, 'utf8').trim() : required('SEMIBOT_VM_TOKEN');
  const daemon = await startDaemon({
    url,
    token,
    ticket: env.SEMIBOT_CONNECT_TICKET,
    home: env.SEMIBOT_HOME ?? process.cwd(),
    logLevel: env.LOG_LEVEL ?? 'info',
    instanceId: env.SEMIBOT_INSTANCE_ID,
    hostLoopback: env.SEMIBOT_HOST_LOOPBACK,
    onFatal(reason) {
      daemon.logger.error({ reason }, 'cannot connect; exiting');
      process.exit(3);
    },
  });

  // In process mode the plane lives and dies with its control plane.
  const parentPid = Number(env.SEMIBOT_PARENT_PID ?? 0);
  if (parentPid > 0) {
    setInterval(() => {
      try {
        process.kill(parentPid, 0);
      } catch {
        daemon.logger.warn('control plane process is gone; exiting');
        process.exit(0);
      }
    }, 2_000).unref();
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void daemon.stop().finally(() => process.exit(0)));
  }
}
