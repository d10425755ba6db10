"""Python asyncio peer: pipe round trip, one byte each way, two tasks."""
import asyncio
import os

from common import now, quick, report


async def main():
    loop = asyncio.get_running_loop()
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    for fd in (r1, w1, r2, w2):
        os.set_blocking(fd, False)
    ra = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(ra), os.fdopen(r1, "rb", 0))
    rb = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(rb), os.fdopen(r2, "rb", 0))
    wa, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(w1, "wb", 0))
    wb, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(w2, "wb", 0))

    async def echo():
        while True:
            b = await ra.read(1)
            if not b:
                return
            wb.write(b)

    task = asyncio.create_task(echo())
    n = 2000 if quick else 20000
    for _ in range(200):
        wa.write(b"x")
        await rb.read(1)
    samples = []
    for _ in range(n):
        t0 = now()
        wa.write(b"x")
        await rb.read(1)
        samples.append(now() - t0)
    report("lang_pipe_rt", samples, "Python asyncio: two tasks, pipe transports, 1 byte each way")
    task.cancel()


asyncio.run(main())
