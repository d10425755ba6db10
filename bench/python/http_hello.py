"""Python asyncio peer: HTTP hello server on asyncio streams, for wrk."""
import asyncio
import sys

BODY = b"Hello, world\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(BODY)) + BODY


async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            while True:
                h = await reader.readline()
                if not h or h in (b"\r\n", b"\n"):
                    break
            writer.write(RESPONSE)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()


asyncio.run(main())
