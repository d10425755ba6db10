"""Python asyncio peer: the concurrent prime sieve, one task per prime,
asyncio.Queue(1) between them."""
import asyncio

from common import now, quick


async def main():
    target = 500 if quick else 2000

    async def generate(q):
        i = 2
        while True:
            await q.put(i)
            i += 1

    async def filt(src, dst, p):
        while True:
            n = await src.get()
            if n % p:
                await dst.put(n)

    t0 = now()
    ch = asyncio.Queue(1)
    tasks = [asyncio.create_task(generate(ch))]
    prime = 0
    for _ in range(target):
        prime = await ch.get()
        nxt = asyncio.Queue(1)
        tasks.append(asyncio.create_task(filt(ch, nxt, prime)))
        ch = nxt
    ns = now() - t0
    print("\t".join(str(x) for x in ["RESULT", "lang_sieve", "python", "ns", 1, ns, ns, ns,
                                     round(1e9 / ns * target),
                                     f"Python asyncio: Queue(1) per prime; prime {target} is {prime}"]))
    for t in tasks:
        t.cancel()


asyncio.run(main())
