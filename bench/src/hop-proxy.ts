import net from 'node:net';
import { rmSync } from 'node:fs';

/**
 * One trivial proxy for the floor under load (hop-floor.ts, `relayChain`): each connection gets its
 * own connection to the next hop, and every byte read on either side is written to the other at
 * once — no parsing, no buffering of its own. `node hop-proxy.js <next> [<listen>]`: the next hop
 * and where to listen are each a loopback TCP port or, starting with `/`, a Unix socket path
 * (default listen: a free TCP port). Prints where it listens.
 */
const [nextArg, listenArg] = process.argv.slice(2) as [string, string | undefined];
const connectNext = () => (nextArg.startsWith('/') ? net.connect(nextArg) : net.connect(Number(nextArg), '127.0.0.1'));
const server = net.createServer((client) => {
  client.setNoDelay(true); // a no-op on a Unix socket
  const next = connectNext();
  next.setNoDelay(true);
  client.on('data', (d) => next.write(d));
  next.on('data', (d) => client.write(d));
  // either side ending or failing ends the pair, as a kept-alive connection closed by the server would
  client.on('end', () => next.end());
  next.on('end', () => client.end());
  client.on('error', () => next.destroy());
  next.on('error', () => client.destroy());
  client.on('close', () => next.destroy());
  next.on('close', () => client.destroy());
});
if (listenArg?.startsWith('/')) {
  rmSync(listenArg, { force: true });
  server.listen(listenArg, () => process.stdout.write(`${listenArg}\n`));
  process.once('exit', () => rmSync(listenArg, { force: true }));
  process.once('SIGTERM', () => process.exit(0)); // the bench stops its relays so
} else {
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}
// the bench that started this relay is gone (its end of stdin closed): so is the relay
process.stdin.on('end', () => process.exit(0)).resume();
