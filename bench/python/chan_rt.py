"""Python asyncio peer: the nearest thing to a channel round trip, an
asyncio.Queue ping-pong between two tasks."""
import asyncio

from common import now, quick, report


async def main():
    ping, pong = asyncio.Queue(1), asyncio.Queue(1)

    async def echo():
        while True:
            v = await ping.get()
            if v is None:
                return
            await pong.put(v)

    asyncio.create_task(echo())
    n = 5000 if quick else 50000
    for i in range(200):
        await ping.put(i)
        await pong.get()
    samples = []
    for i in range(n):
        t0 = now()
        await ping.put(i)
        await pong.get()
        samples.append(now() - t0)
    await ping.put(None)
    report("lang_chan_rt", samples, "Python asyncio: Queue(1) ping-pong")


asyncio.run(main())
