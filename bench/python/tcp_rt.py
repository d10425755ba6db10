"""Python asyncio peer: TCP loopback round trip, one byte each way."""
import asyncio
import socket

from common import now, quick, report


async def main():
    async def serve(reader, writer):
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            b = await reader.read(1)
            if not b:
                return
            writer.write(b)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n = 2000 if quick else 20000
    for _ in range(200):
        writer.write(b"x")
        await reader.read(1)
    samples = []
    for _ in range(n):
        t0 = now()
        writer.write(b"x")
        await reader.read(1)
        samples.append(now() - t0)
    report("lang_tcp_rt", samples, "Python asyncio: streams over TCP loopback, 1 byte")
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.01)   # the server side sees the end and returns
    server.close()
    await server.wait_closed()


asyncio.run(main())
