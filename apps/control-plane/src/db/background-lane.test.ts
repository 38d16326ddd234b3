import { describe, expect, it } from 'vitest';
import { BackgroundLane } from './background-lane.js';

/** One connection that serves calls in arrival order, one at a time, each taking `ms` (like PGlite). */
function connection() {
  let tail = Promise.resolve();
  const served: string[] = [];
  const send = (req: { name: string; ms: number; fail?: boolean }) => {
    const result = tail.then(async () => {
      await new Promise((r) => setTimeout(r, req.ms));
      served.push(req.name);
      if (req.fail) throw new Error(`${req.name} failed`);
      return req.name;
    });
    tail = result.then(() => {}, () => {});
    return result;
  };
  return { send, served };
}

describe('BackgroundLane', () => {
  it('sends background calls only while no interactive one is under way', async () => {
    const c = connection();
    const lane = new BackgroundLane(c.send, 10_000);
    await Promise.all([
      lane.later({ name: 'b1', ms: 20 }),
      lane.later({ name: 'b2', ms: 20 }),
      lane.later({ name: 'b3', ms: 20 }),
      lane.now({ name: 'i1', ms: 20 }),
      lane.now({ name: 'i2', ms: 1 }),
    ]);
    // b1 had been sent before the interactive calls came; b2 and b3 waited for them
    expect(c.served).toEqual(['b1', 'i1', 'i2', 'b2', 'b3']);
  });

  it('does not hold background calls back for ever under a steady stream of interactive ones', async () => {
    const c = connection();
    const lane = new BackgroundLane(c.send, 100);
    let stop = false;
    // two callers, so that one is always under way: the lane never sees a pause
    const caller = async () => {
      while (!stop) await lane.now({ name: 'i', ms: 5 });
    };
    const load = Promise.all([caller(), caller()]);
    const started = performance.now();
    await lane.later({ name: 'b', ms: 1 });
    const waited = performance.now() - started;
    stop = true;
    await load;
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(1_000);
    lane.close();
  });

  it("passes a background call's failure to its caller and carries on with the next", async () => {
    const c = connection();
    const lane = new BackgroundLane(c.send, 10_000);
    const failing = lane.later({ name: 'bad', ms: 1, fail: true });
    const next = lane.later({ name: 'good', ms: 1 });
    await expect(failing).rejects.toThrow('bad failed');
    expect(await next).toBe('good');
  });
});
