// Shared by the Node.js peers of the language benchmarks: RESULT lines as
// bench/common/bench.h prints them.
'use strict';
exports.quick = process.argv.includes('--quick');
exports.report = function (sc, samples, desc, opsOverride) {
  samples.sort((a, b) => a - b);
  const n = samples.length;
  const total = samples.reduce((a, b) => a + b, 0);
  const ops = opsOverride !== undefined ? opsOverride : Math.round(1e9 * n / total);
  console.log(['RESULT', sc, 'node', 'ns', n, samples[Math.floor(n / 2)], samples[Math.floor(n * 99 / 100)],
    samples[Math.floor(n * 999 / 1000)], ops, desc].join('\t'));
};
exports.now = () => Number(process.hrtime.bigint());
