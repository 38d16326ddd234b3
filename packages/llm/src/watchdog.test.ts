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
});
