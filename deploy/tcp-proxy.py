#!/usr/bin/env python3
"""The load balancer of deploy/local-cluster.sh: round robin over backends, per connection,
skipping a backend that refuses the connection. Standard library only.

    tcp-proxy.py LISTEN_PORT BACKEND_PORT [BACKEND_PORT ...]
"""
import asyncio
import itertools
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main(listen, backends):
    turn = itertools.cycle(backends)

    async def handle(client_r, client_w):
        for _ in backends:
            port = next(turn)
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            client_w.close()
            return
        await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ports = [int(p) for p in sys.argv[1:]]
    if len(ports) < 2:
        sys.exit(__doc__)
    asyncio.run(main(ports[0], ports[1:]))
