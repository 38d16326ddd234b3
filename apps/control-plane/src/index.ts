export { createApp, type App } from './app.js';
export { loadConfig, settingNames, type Config } from './config.js';
export { openDb, openPglite, openPostgres, type Db, type Queryable } from './db/db.js';
export { migrate } from './db/migrate.js';
export { PLANE_NODE_FLAGS } from './scheduler/process-driver.js';
export { CONTROL_PLANE_NODE_FLAGS } from './node-flags.js';
