#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { Tokens } from './auth/tokens.js';

/**
 * Mints the credential of one plane of the shared worker pool (the operator's tool):
 *   semibot-pool-token [--pool NAME] [--days N]
 * It is signed with the control plane's JWT_SECRET (or SEMIBOT_HOME's generated one), names the
 * pool (SEMIBOT_PLANE_POOL of the control plane) and a new plane id, and prints the token: give it
 * to one `semibot-runtime` as SEMIBOT_VM_TOKEN, with SEMIBOT_CONTROL_URL pointing at /ws/vm.
 */
const { values } = parseArgs({
  options: { pool: { type: 'string' }, days: { type: 'string', default: '365' } },
  strict: true,
});
const config = loadConfig();
const pool = values.pool ?? config.planePool;
if (!pool) {
  process.stderr.write('semibot-pool-token: name the pool with --pool (or set SEMIBOT_PLANE_POOL)\n');
  process.exit(2);
}
const days = Number(values.days);
if (!Number.isInteger(days) || days < 1) {
  process.stderr.write('semibot-pool-token: --days must be a whole number of days, at least 1\n');
  process.exit(2);
}
const tokens = new Tokens(config.jwtSecret, { userS: config.userTokenTtlS, vmS: config.vmTokenTtlS });
process.stdout.write(`${await tokens.signPool({ pool, instanceId: randomUUID() }, days * 86_400)}\n`);
