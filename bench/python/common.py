"""Shared by the Python asyncio peers of the language benchmarks: RESULT
lines as bench/common/bench.h prints them."""
import sys
import time

quick = "--quick" in sys.argv
now = time.perf_counter_ns


def report(sc, samples, desc, ops=None):
    samples.sort()
    n = len(samples)
    if ops is None:
        ops = round(1e9 * n / sum(samples))
    print("\t".join(str(x) for x in ["RESULT", sc, "python", "ns", n, samples[n // 2],
                                     samples[n * 99 // 100], samples[n * 999 // 1000], ops, desc]))
