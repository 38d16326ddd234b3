import net from 'node:net';

/**
 * One trivial relay process for the hop floor (hop-floor.ts): every byte read from a client is
 * written on to the next hop at once. `node hop-relay.js <next port>`; prints its own port.
 */
const next = net.connect(Number(process.argv[2]), '127.0.0.1');
next.setNoDelay(true);
const server = net.createServer((s) => {
  s.setNoDelay(true);
  s.on('data', (d) => next.write(d));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
// the bench that started this relay is gone (its end of stdin closed): so is the relay
process.stdin.on('end', () => process.exit(0)).resume();
