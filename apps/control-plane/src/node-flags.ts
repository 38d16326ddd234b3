/**
 * Node flags of the control plane as `npm start` runs it (the root package.json's start script
 * holds the same list; node-flags.test.ts keeps the two equal).
 *
 * One V8 helper thread instead of four. While an embedded control plane starts, the helpers spend
 * ~1 s of CPU, much of it TurboFan compiling PGlite's hottest WebAssembly functions (`perf` of a
 * start), against the database thread and the main thread loading the server on the same two
 * cores. With one helper, spawn → ready on a populated home took a median 1.19 s against 1.39 s
 * (10 alternating pairs, 7 faster; the process's CPU by ready 2.0–2.5 s against 2.4–3.2 s), and
 * `node apps/control-plane/start.mjs` 1.35 against 1.48 s (9 of 10 faster). The tier-up is only
 * spread over a longer time: a compute-heavy query ran in 155–160 ms once warm either way (3 + 3
 * runs). The relay under load was the same either way (200 streams, 4 + 4 alternating runs: p99
 * 16–35 against 22–36 ms).
 * `--liftoff-only` would save that CPU for good, but PGlite then runs such a query 2.3× slower,
 * and setting it back once started does not bring the tier-up back.
 *
 * A replica on PostgreSQL runs no WebAssembly, so its image (deploy/Dockerfile.control-plane) keeps
 * Node's defaults: nothing was measured there that would justify changing them.
 */
export const CONTROL_PLANE_NODE_FLAGS: readonly string[] = ['--v8-pool-size=1'];
