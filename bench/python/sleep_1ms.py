"""Python asyncio peer: how far asyncio.sleep(0.001) overshoots."""
import asyncio

from common import now, quick, report


async def main():
    samples = []
    for _ in range(100 if quick else 1000):
        t0 = now()
        await asyncio.sleep(0.001)
        samples.append(now() - t0 - 1000000)
    report("lang_sleep_1ms", samples, "Python asyncio: asyncio.sleep(0.001), overshoot past 1 ms")


asyncio.run(main())
