// Node.js peer: the concurrent prime sieve with async functions and
// one-slot promise queues (unbuffered channels' nearest form).
'use strict';
const { quick, now } = require('./common');
class Chan {
  constructor() { this.value = undefined; this.full = false; this.getters = []; this.putters = []; }
  async send(v) {
    const g = this.getters.shift();
    if (g) { g(v); return; }
    await new Promise((r) => this.putters.push([v, r]));
  }
  recv() {
    const p = this.putters.shift();
    if (p) { p[1](); return Promise.resolve(p[0]); }
    return new Promise((r) => this.getters.push(r));
  }
}
(async () => {
  const target = quick ? 500 : 2000;
  const t0 = now();
  let ch = new Chan();
  (async (c) => { for (let i = 2; ; i++) await c.send(i); })(ch);
  let prime = 0;
  for (let i = 0; i < target; i++) {
    prime = await ch.recv();
    const src = ch, dst = new Chan(), p = prime;
    (async () => { for (;;) { const n = await src.recv(); if (n % p !== 0) await dst.send(n); } })();
    ch = dst;
  }
  const ns = now() - t0;
  console.log(['RESULT', 'lang_sieve', 'node', 'ns', 1, ns, ns, ns, Math.round(1e9 / ns * target),
    `Node.js: async functions and promise channels; prime ${target} is ${prime}`].join('\t'));
  process.exit(0);
})();
