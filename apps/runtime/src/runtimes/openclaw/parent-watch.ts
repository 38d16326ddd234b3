/**
 * Preloaded (`node --import`) into the OpenClaw gateway the plane starts. Linux reparents a child
 * whose parent dies, even by kill -9, and nothing else tells the child; so the gateway checks once
 * a second that the plane which started it is still its parent, and exits when it is not. Without
 * this, a crashed plane would leave an ~800 MB gateway behind.
 */
const parent = Number(process.env.SEMIBOT_PARENT_PID);
if (parent > 0) {
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1_000).unref();
}
export {};
