/** The benchmark is a program (`npm run bench`); these are its reusable pieces. */
export { summarize, difference, type Summary } from './stats.js';
export { startControlPlane, startMock, type ControlPlaneProc, type MockProc } from './platform.js';
export { rssBytes, cpuMs, childPids, listeningPort } from './procs.js';
export { FULL, SMOKE, type BenchConfig, type LatencyLevel } from './config.js';
