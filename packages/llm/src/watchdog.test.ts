import { describe, expect, it } from 'vitest';
import { IdleWatchdog } from './watchdog.js';

describe('IdleWatchdog', () => {
  it("aborts when the caller's signal does, with the caller's reason", () => {
    const caller = new AbortController();
    const w = new IdleWatchdog(60_000, caller.signal);
    expect(w.signal.aborted).toBe(false);
    caller.abort('user cancelled');
    expect([w.signal.aborted, w.signal.reason, w.fired]).toEqual([true, 'user cancelled', false]);
  });

  it('starts aborted when the caller already aborted', () => {
    const caller = new AbortController();
    caller.abort('gone');
    expect(new IdleWatchdog(60_000, caller.signal).signal.aborted).toBe(true);
  });

  it('fires when no data arrives for its idle time, and not while data keeps arriving', async () => {
    const w = new IdleWatchdog(80, undefined);
    w.start();
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 40));
      w.touch();
    }
    expect(w.signal.aborted).toBe(false); // 160 ms in, never 80 ms idle
    await new Promise((r) => setTimeout(r, 150));
    expect([w.signal.aborted, w.fired]).toEqual([true, true]);
  });

  it("stops following the caller's signal once stopped (a finished stream is not aborted after the fact)", () => {
    const caller = new AbortController();
    const w = new IdleWatchdog(60_000, caller.signal);
    w.start();
    w.stop();
    caller.abort();
    expect(w.signal.aborted).toBe(false);
  });

  it('tells its one onAbort callback the reason, at once when already aborted, and not after stop', async () => {
    const caller = new AbortController();
    const w = new IdleWatchdog(60_000, caller.signal);
    const told: unknown[] = [];
    w.onAbort((r) => told.push(['first', r]));
    w.onAbort((r) => told.push(['second', r])); // replaces the first
    caller.abort('user cancelled');
    w.onAbort((r) => told.push(['late', r]));
    expect(told).toEqual([['second', 'user cancelled'], ['late', 'user cancelled']]);
    expect([w.aborted, w.reason, w.fired, w.signal.aborted, w.signal.reason]).toEqual([true, 'user cancelled', false, true, 'user cancelled']);

    const idle = new IdleWatchdog(40, undefined);
    let fired = 0;
    idle.onAbort(() => fired++);
    idle.start();
    await new Promise((r) => setTimeout(r, 120));
    expect([fired, idle.fired, idle.aborted]).toEqual([1, true, true]);

    const later = new AbortController();
    const stopped = new IdleWatchdog(60_000, later.signal);
    let after = 0;
    stopped.onAbort(() => after++);
    stopped.stop();
    later.abort();
    expect([after, stopped.aborted]).toEqual([0, false]);
  });
});
