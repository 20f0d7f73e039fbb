"""uvicorn's HTTP protocol, with the writes of one event-loop step sent as one.

uvicorn writes a response's status line and headers when the app sends `http.response.start` and the body when
it sends `http.response.body`: two `send()` system calls for every answer, though the app sends both in the same
step of the event loop. On a short answer (a cached API answer, a short query's result) those calls are a large
part of what the server process spends per request. Here the transport keeps what is written during one step
and sends it all when the step ends (`call_soon`), so a whole short answer goes out in one call. Nothing waits
longer than the step that wrote it, more than 64 KB is handed on at once (so flow control still applies to a
producer that never yields), closing sends what is pending first, and everything else about the transport
(flow control, addresses, reading) is uvicorn's own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

JOIN_AT_MOST = 64 * 1024  # bytes joined into one write; past this the parts are written one by one


class CoalescingTransport:
    """An asyncio transport whose writes within one event-loop step reach the socket in one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    @property
    def pending_bytes(self) -> int:
        """Written in this step and not yet handed to the socket's transport."""
        return self._pending_bytes

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes > JOIN_AT_MOST:  # a producer that never yields still meets uvicorn's flow control
            self._flush()

    def _flush(self) -> None:
        pending, size = self._pending, self._pending_bytes
        self._pending, self._pending_bytes = [], 0
        if not pending or self._transport.is_closing():
            return
        if len(pending) == 1 or size > JOIN_AT_MOST:
            for data in pending:  # a long body: one more call costs less than copying it
                self._transport.write(data)
        else:
            self._transport.write(b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, ...: the transport's own
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a CoalescingTransport (`uvicorn.run(..., http=...)`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
