"""The coalescing transport under uvicorn's protocol (kg_service/http_protocol.py), over real sockets: whatever is
written arrives whole and in order, closing right after a write loses nothing, and long bodies are not held."""

from __future__ import annotations

import asyncio

from kg_service.http_protocol import JOIN_AT_MOST, CoalescingTransport


async def _through_a_socket(writes) -> bytes:
    """Run `writes(transport)` on a client connection whose transport coalesces; return what the server read."""
    received = asyncio.get_running_loop().create_future()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.set_result(await reader.read())  # until the client closes
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    await writes(CoalescingTransport(transport, loop))
    data = await asyncio.wait_for(received, 10)
    server.close()
    await server.wait_closed()
    return data


def test_writes_within_and_across_steps_arrive_whole_and_in_order() -> None:
    async def writes(transport: CoalescingTransport) -> None:
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"first")
        await asyncio.sleep(0)  # the step ends: what it wrote goes out
        transport.write(b" second")
        await asyncio.sleep(0.01)
        transport.write(b" third")
        transport.close()  # at once: the pending write is sent before the connection closes

    assert asyncio.run(_through_a_socket(writes)) == b"HTTP/1.1 200 OK\r\n\r\nfirst second third"


def test_a_long_body_is_written_whole_and_not_held() -> None:
    body = bytes(range(256)) * (4 * JOIN_AT_MOST // 256)

    async def writes(transport: CoalescingTransport) -> None:
        transport.write(b"head\r\n\r\n")
        assert transport.pending_bytes == len(b"head\r\n\r\n")  # a short write waits for the end of the step
        transport.write(body)
        assert transport.pending_bytes == 0  # past JOIN_AT_MOST: handed on at once, flow control applies
        transport.write(b"tail")
        await asyncio.sleep(0)
        assert transport.pending_bytes == 0
        transport.close()

    assert asyncio.run(_through_a_socket(writes)) == b"head\r\n\r\n" + body + b"tail"


def test_a_write_after_close_is_dropped() -> None:
    async def writes(transport: CoalescingTransport) -> None:
        transport.write(b"sent")
        await asyncio.sleep(0)
        transport.close()
        transport.write(b"never")  # after close: dropped, not an error
        await asyncio.sleep(0)
        assert transport.is_closing()

    assert asyncio.run(_through_a_socket(writes)) == b"sent"
