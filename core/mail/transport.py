"""Mail transports: SMTP (aiosmtplib, pooled, rate-limited) and a local maildir folder.

A message with an address whose local part is not ASCII (its bytes are not ASCII, see
:mod:`core.mail.message`) goes with ``SMTPUTF8`` (RFC 6531) when the server offers it; when it
does not, that one message is refused with :class:`PermanentMailError` (``bounce=False``: the
address is fine, the server cannot carry it), and the connection serves the next one.
"""

from __future__ import annotations

import asyncio
import mailbox
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

__all__ = [
    "NO_SMTPUTF8",
    "MaildirTransport",
    "PermanentMailError",
    "SMTPTransport",
    "TemporaryMailError",
    "Transport",
    "transport_from_settings",
]


class PermanentMailError(Exception):
    """The message cannot be delivered to ``address``, ever: the server refused it (5xx;
    ``bounce``) or cannot carry it (no SMTPUTF8 for an internationalized address)."""

    def __init__(self, address: str, reason: str, *, bounce: bool = True) -> None:
        super().__init__(f"{address}: {reason}")
        self.address = address
        self.reason = reason
        self.bounce = bounce


class TemporaryMailError(Exception):
    """A 4xx answer or a network problem: try again later.

    ``recipient`` is true when the server answered for this message or recipient (a 4xx to
    RCPT or DATA: the next message may well go through), false when the server could not be
    reached, refused the sender or closed the session (421): the next message would fail the
    same way.
    """

    def __init__(self, reason: str, *, recipient: bool = False) -> None:
        super().__init__(reason)
        self.recipient = recipient


NO_SMTPUTF8 = "the mail server does not offer SMTPUTF8 (RFC 6531), which this address needs"


class Transport:
    """Delivers raw RFC 5322 bytes to one recipient."""

    async def send(
        self, sender: str, recipient: str, message: bytes, *, person_id: int | None = None
    ) -> None:
        """Deliver ``message`` (to or about person ``person_id`` when known); raise
        PermanentMailError or TemporaryMailError on failure."""
        raise NotImplementedError

    async def forget(self, person_id: int, addresses: list[str]) -> int:
        """Delete the copies this transport kept of mail to or about a person who is erased;
        returns how many. Mail that left through SMTP is out of reach: nothing to do."""
        return 0

    async def close(self) -> None:
        """Release connections."""


class MaildirTransport(Transport):
    """Writes every message into a maildir folder (the embedded default; nothing leaves).

    A message to or about a known person carries ``,P=<id>`` in its file name (a maildir
    extension field, as Dovecot's ``,S=<size>``), so erasing the person finds it.
    """

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    async def send(
        self, sender: str, recipient: str, message: bytes, *, person_id: int | None = None
    ) -> None:
        """Add the message to the maildir's ``new/`` folder (any address: no SMTP involved)."""
        await asyncio.to_thread(self._add, message, person_id)

    def _add(self, message: bytes, person_id: int | None) -> None:
        # each folder on its own: Maildir(create=True) takes an existing top folder for a whole
        # maildir, so a thread racing the first one's creation found no new/ yet
        for sub in ("tmp", "new", "cur"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        key = mailbox.Maildir(self.folder, create=False).add(message)
        if person_id is not None:
            new = self.folder / "new"
            (new / key).rename(new / f"{key},P={person_id}")

    async def forget(self, person_id: int, addresses: list[str]) -> int:
        """Delete the messages tagged with the person's id or naming one of ``addresses`` in
        their header."""
        return await asyncio.to_thread(self._forget, person_id, [a.lower() for a in addresses])

    def _forget(self, person_id: int, addresses: list[str]) -> int:
        tag = f",P={person_id}"
        needles = [a.encode() for a in addresses if a]
        removed = 0
        for folder in (self.folder / "new", self.folder / "cur"):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.split(":")[0].endswith(tag) or _names(path, needles):
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed


def _names(path: Path, needles: list[bytes]) -> bool:
    """Whether the message's header (up to the first empty line) holds one of ``needles``."""
    if not needles:
        return False
    with path.open("rb") as fh:
        header = fh.read(65536)
    header = re.split(rb"\r?\n\r?\n", header, maxsplit=1)[0].lower()
    return any(needle in header for needle in needles)


class _RateLimiter:
    """At most ``per_minute`` sends a minute, spread evenly (0 = unlimited)."""

    def __init__(self, per_minute: int) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next_slot = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            delay = self.next_slot - now
            self.next_slot = max(now, self.next_slot) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class SMTPTransport(Transport):
    """SMTP through aiosmtplib with a small pool of open connections.

    ``smtps://`` uses implicit TLS (port 465 by default); ``smtp://`` upgrades with STARTTLS
    when the server offers it (``?starttls=require`` insists, ``?starttls=off`` never tries).
    """

    def __init__(self, url: str, pool_size: int = 4, rate_per_minute: int = 0) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        starttls = query.get("starttls", "auto")
        self.start_tls: bool | None = {"require": True, "off": False}.get(starttls)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.pool_size = pool_size
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots: asyncio.Semaphore | None = None
        self._limiter = _RateLimiter(rate_per_minute)

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.implicit_tls,
            start_tls=None if self.implicit_tls else self.start_tls,
            timeout=30,
        )
        await client.connect()
        if self.username:
            await client.login(self.username, self.password or "")
        return client

    async def send(
        self, sender: str, recipient: str, message: bytes, *, person_id: int | None = None
    ) -> None:
        """Send over a pooled connection; classify failures as permanent or temporary.

        ``SMTPUTF8`` (and ``BODY=8BITMIME``) go with a message that needs them (not ASCII).
        """
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.pool_size)
        utf8 = not (sender.isascii() and recipient.isascii() and message.isascii())
        options = ["SMTPUTF8", "BODY=8BITMIME"] if utf8 else None
        await self._limiter.wait()
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                await client.sendmail(sender, [recipient], message, mail_options=options)
            except aiosmtplib.SMTPNotSupported as exc:  # checked before MAIL: the session is clean
                self._keep(client)
                raise PermanentMailError(recipient, NO_SMTPUTF8, bounce=False) from exc
            except aiosmtplib.SMTPRecipientsRefused as exc:
                self._keep(client)
                refusal = exc.recipients[0] if exc.recipients else None
                code = refusal.code if refusal else 550
                reason = refusal.message if refusal else str(exc)
                if 500 <= code < 600:
                    raise PermanentMailError(recipient, f"{code} {reason}") from exc
                raise TemporaryMailError(f"{code} {reason}", recipient=code != 421) from exc
            except aiosmtplib.SMTPResponseException as exc:
                self._keep(client)
                if 500 <= exc.code < 600:
                    raise PermanentMailError(recipient, f"{exc.code} {exc.message}") from exc
                # a 4xx to DATA is about this message; to MAIL, or a 421, about the session
                per_message = exc.code != 421 and not isinstance(exc, aiosmtplib.SMTPSenderRefused)
                raise TemporaryMailError(
                    f"{exc.code} {exc.message}", recipient=per_message
                ) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                if client is not None:
                    client.close()
                raise TemporaryMailError(f"{type(exc).__name__}: {exc}") from exc
            else:
                self._keep(client)

    def _keep(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected:
            self._idle.append(client)

    async def close(self) -> None:
        """Say QUIT on every pooled connection."""
        while self._idle:
            client = self._idle.pop()
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


def transport_from_settings(
    smtp_url: str | None, mail_dir: str, pool_size: int, rate_per_minute: int
) -> Transport:
    """SMTP when ``ORGA_SMTP_URL`` is set, else the maildir folder ``ORGA_MAIL_DIR``."""
    if smtp_url:
        return SMTPTransport(smtp_url, pool_size=pool_size, rate_per_minute=rate_per_minute)
    return MaildirTransport(mail_dir)
