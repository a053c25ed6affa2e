"""A lean HTTP/1.1 keep-alive client for load scripts (httpx would eat the CPU we measure)."""

from __future__ import annotations

import asyncio

import msgspec


class Connection:
    """One keep-alive connection to ``127.0.0.1:port``."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        """Connect."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

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
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.auth}"
            f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value:
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
            return status, data
        return status, await self.reader.readexactly(length) if length else b""

    async def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 of latencies in seconds, as milliseconds."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}
