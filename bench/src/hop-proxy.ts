import net from 'node:net';

/**
 * One trivial TCP proxy for the floor under load (hop-floor.ts, `relayChain`): each connection
 * gets its own connection to the next hop, and every byte read on either side is written to the
 * other at once — no parsing, no buffering of its own. `node hop-proxy.js <next port>`; prints its
 * own port.
 */
const nextPort = Number(process.argv[2]);
const server = net.createServer((client) => {
  client.setNoDelay(true);
  const next = net.connect(nextPort, '127.0.0.1');
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
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
// the bench that started this relay is gone (its end of stdin closed): so is the relay
process.stdin.on('end', () => process.exit(0)).resume();
