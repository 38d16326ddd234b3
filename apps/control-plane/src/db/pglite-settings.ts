/**
 * PostgreSQL settings of embedded PGlite. shared_buffers: PGlite's default of 128 MB is zeroed in
 * WebAssembly memory at every boot (~1.2 ms per MB here: 346 ms of a start against 250 ms at
 * 16 MB) and held for the life of the process; a 16 MB pool was measured as fast on this
 * workload (60k event batches into a 36 MB table, then replays: 6.4 s vs 8.9 s; 319 vs 372 ms),
 * the operating system's page cache sits behind it either way.
 */
export const PGLITE_CONF = ['shared_buffers=16MB'];
