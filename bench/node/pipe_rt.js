// Node.js peer: pipe round trip, one byte each way, within one process.
// Node has no pipe(); two FIFOs opened read-write and non-blocking give libuv
// pipe handles (epoll), as the language's pipes are on corio's poller.
'use strict';
const fs = require('fs'), net = require('net'), os = require('os'), path = require('path');
const { execFileSync } = require('child_process');
const { quick, report, now } = require('./common');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipe-rt-'));
const a = path.join(dir, 'a'), b = path.join(dir, 'b');
execFileSync('mkfifo', [a, b]);
const flags = fs.constants.O_RDWR | fs.constants.O_NONBLOCK;
const ra = new net.Socket({ fd: fs.openSync(a, flags), readable: true, writable: false });
const wa = new net.Socket({ fd: fs.openSync(a, flags), readable: false, writable: true });
const rb = new net.Socket({ fd: fs.openSync(b, flags), readable: true, writable: false });
const wb = new net.Socket({ fd: fs.openSync(b, flags), readable: false, writable: true });
ra.on('data', (d) => wb.write(d));   // the echo side
const n = quick ? 2000 : 20000, warm = 200, samples = [];
let i = 0, t0 = 0;
rb.on('data', () => {
  if (i >= warm) samples.push(now() - t0);
  if (++i === n + warm) {
    report('lang_pipe_rt', samples, 'Node.js: FIFOs as libuv pipes, 1 byte each way, one process');
    fs.rmSync(dir, { recursive: true });
    process.exit(0);
  }
  t0 = now();
  wa.write('x');
});
t0 = now();
wa.write('x');
