"""An aiosmtpd handler for the benchmarks: logs every accepted recipient to a file (one line
each, so the bench can check who got how many mails) and answers ``451`` to every address
that starts with ``tempfail`` (a server that always defers). Run it with SMTPUTF8 on:
``python -m aiosmtpd -n -u -c bench._smtp.RecordingSink LOGFILE -l HOST:PORT``.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

__all__ = ["RecordingSink"]


class RecordingSink:
    """Accepts everything but ``tempfail…``; appends each recipient to ``log_path``."""

    def __init__(self, log_path: str) -> None:
        self.log = open(log_path, "a", encoding="utf-8")  # open while the server runs

    @classmethod
    def from_cli(cls, parser: ArgumentParser, *args: str) -> RecordingSink:
        """aiosmtpd's CLI: the one argument is the log file."""
        if len(args) != 1:
            parser.error("RecordingSink takes the path of its log file")
        return cls(args[0])

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Defer the ``tempfail`` addresses, accept the rest."""
        if address.startswith("tempfail"):
            return "451 4.2.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Log the recipients (flushed, so the bench can read them while this runs)."""
        self.log.write("".join(f"{rcpt}\n" for rcpt in envelope.rcpt_tos))
        self.log.flush()
        return "250 Message accepted"
