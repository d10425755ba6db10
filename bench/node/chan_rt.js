// Node.js peer: the nearest thing to a channel round trip, a promise-based
// queue ping-pong between two async functions.
'use strict';
const { quick, report, now } = require('./common');
class Queue {
  constructor() { this.items = []; this.waiters = []; }
  put(v) { const w = this.waiters.shift(); if (w) w(v); else this.items.push(v); }
  get() { return this.items.length ? Promise.resolve(this.items.shift()) : new Promise((r) => this.waiters.push(r)); }
}
(async () => {
  const ping = new Queue(), pong = new Queue();
  (async () => { for (;;) { const v = await ping.get(); if (v < 0) return; pong.put(v); } })();
  const n = quick ? 5000 : 50000, samples = [];
  for (let i = 0; i < 200; i++) { ping.put(i); await pong.get(); }
  for (let i = 0; i < n; i++) { const t0 = now(); ping.put(i); await pong.get(); samples.push(now() - t0); }
  ping.put(-1);
  report('lang_chan_rt', samples, 'Node.js: promise queue ping-pong');
})();
