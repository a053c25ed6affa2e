"""A lean HTTP/1.1 keep-alive client for load scripts (httpx would eat the CPU we measure).

It is an ``asyncio.Protocol``: an answer usually arrives in one read and is parsed with a few
``bytes.find`` calls, without an await per header line as ``asyncio`` streams would need; the
load generator shares the machine with the server it measures, so its CPU counts."""

from __future__ import annotations

import asyncio

import msgspec


class _Answers(asyncio.Protocol):
    """Collects the bytes of one answer at a time and hands it over complete."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.head = b""  # the last answer's status line and headers, lower-cased

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answer = _complete(self.buffer)
        if answer is not None and self.waiter is not None and not self.waiter.done():
            status, body, used = answer
            self.head = bytes(self.buffer[: self.buffer.find(b"\r\n\r\n")]).lower()
            del self.buffer[:used]
            self.waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("connection closed"))


def _complete(buffer: bytearray) -> tuple[int, bytes, int] | None:
    """(status, body, bytes used) once ``buffer`` holds a whole answer, else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    status = int(head[9:12])
    start = end + 4
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
        if len(buffer) < start + length:
            return None
        return status, bytes(buffer[start : start + length]), start + length
    if b"\r\ntransfer-encoding: chunked" in head:
        return _chunked(buffer, status, start)
    return status, b"", start


def _chunked(buffer: bytearray, status: int, at: int) -> tuple[int, bytes, int] | None:
    body = bytearray()
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(buffer[at:line_end].split(b";")[0], 16)
        if len(buffer) < line_end + 2 + size + 2:
            return None
        body += buffer[line_end + 2 : line_end + 2 + size]
        at = line_end + 2 + size + 2
        if size == 0:
            return status, bytes(body), at


class Connection:
    """One keep-alive connection to ``127.0.0.1:port``."""

    def __init__(self, port: int, token: str | None = None, cookie: str | None = None) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        if cookie:  # a console page: the session cookie instead of a bearer token
            self.auth += f"Cookie: {cookie}\r\n"
        self.answers: _Answers | None = None

    async def open(self) -> None:
        """Connect."""
        loop = asyncio.get_running_loop()
        _, self.answers = await loop.create_connection(_Answers, "127.0.0.1", self.port)

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        """Send one JSON request and read the whole answer: (status, body)."""
        payload = b"" if body is None else msgspec.json.encode(body)
        return await self._send(method, path, payload, "application/json")

    async def request_form(self, method: str, path: str, form: str) -> tuple[int, bytes]:
        """Send an URL-encoded form (a public page's POST)."""
        return await self._send(method, path, form.encode(), "application/x-www-form-urlencoded")

    async def _send(
        self, method: str, path: str, payload: bytes, content_type: str
    ) -> tuple[int, bytes]:
        answers = self.answers
        assert answers is not None and answers.transport is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.auth}"
            f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        answers.waiter = asyncio.get_running_loop().create_future()
        answers.transport.write(head.encode() + payload)
        return await answers.waiter

    def header(self, name: str) -> str | None:
        """A header of the last answer (``name`` in lower case), else None."""
        assert self.answers is not None
        at = self.answers.head.find(f"\r\n{name}:".encode())
        if at < 0:
            return None
        end = self.answers.head.find(b"\r\n", at + 2)
        start = at + len(name) + 3
        return self.answers.head[start : end if end >= 0 else None].decode().strip()

    async def close(self) -> None:
        """Close the connection."""
        if self.answers is not None and self.answers.transport is not None:
            self.answers.transport.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 of latencies in seconds, as milliseconds."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}
