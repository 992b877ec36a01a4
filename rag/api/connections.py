"""uvicorn's HTTP protocol with a deadline on reading each request whole.

uvicorn drops a connection that idles after a response (keep-alive), but not one that sends
nothing at all, half a header, or a body a byte at a time: each holds a descriptor for as
long as the client likes. Here a request's head must arrive within `read_seconds` of its
first byte (or of the connection's opening), and its body must keep coming: every
PROGRESS_BYTES received buys another `read_seconds` (a large upload on a slow link goes
on; a trickle of a byte now and then does not). Else the connection is closed. Once a
request is read, answering it takes as long as it takes.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("rag.api")
PROGRESS_BYTES = 64 * 1024


class ReadDeadline(HttpToolsProtocol):
    """HttpToolsProtocol that closes connections whose request is not read in time."""

    read_seconds = 10.0
    _deadline: asyncio.TimerHandle | None = None
    _received = 0  # body bytes since the deadline was last set

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_body(self, body: bytes) -> None:
        self._received += len(body)
        if self._deadline is not None and self._received >= PROGRESS_BYTES:
            self._arm()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._received = 0
        self._deadline = self.loop.call_later(self.read_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            client = self.client[0] if self.client else "-"
            log.info("%s: request not read within %.0f s: connection closed", client,
                     self.read_seconds)
            self.transport.close()


def with_deadline(seconds: float) -> type[ReadDeadline]:
    """The protocol class for uvicorn's `http=`, reading each request within `seconds`."""
    return type("ReadDeadline", (ReadDeadline,), {"read_seconds": seconds})
