// Node.js peer: TCP loopback round trip, one byte each way.
'use strict';
const net = require('net');
const { quick, report, now } = require('./common');
const server = net.createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); });
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  c.setNoDelay(true);
  const n = quick ? 2000 : 20000, warm = 200, samples = [];
  let i = 0, t0 = 0;
  c.on('data', () => {
    if (i >= warm) samples.push(now() - t0);
    if (++i === n + warm) {
      report('lang_tcp_rt', samples, 'Node.js: net echo over TCP loopback, 1 byte');
      process.exit(0);
    }
    t0 = now();
    c.write('x');
  });
  c.on('connect', () => { t0 = now(); c.write('x'); });
});
