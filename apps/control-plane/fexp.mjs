import Fastify from 'fastify';
const app = Fastify();
app.get('/a', async () => ({ ok: 1 }));
app.get('/sse', async (req, reply) => {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
  reply.raw.write(': connected\n\n');
});
const url = await app.listen({ port: 0 });
const mode = process.argv[2];
await (await fetch(url + '/a')).text();
await Promise.all([fetch(url + '/a').then(r => r.text()), fetch(url + '/a').then(r => r.text())]);
if (mode === 'sse') {
  const res = await fetch(url + '/sse');
  const r = res.body.getReader(); await r.read(); await r.cancel();
}
await new Promise(r => setTimeout(r, 300));
const t = Date.now();
await app.close();
console.log(mode, 'close took', Date.now() - t);
