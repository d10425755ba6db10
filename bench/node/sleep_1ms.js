// Node.js peer: how far a 1 ms setTimeout overshoots.
'use strict';
const { quick, report, now } = require('./common');
(async () => {
  const n = quick ? 100 : 1000, samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await new Promise((r) => setTimeout(r, 1));
    samples.push(now() - t0 - 1000000);
  }
  report('lang_sleep_1ms', samples, 'Node.js: setTimeout(1), overshoot past 1 ms');
})();
