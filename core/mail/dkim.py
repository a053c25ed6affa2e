"""Optional DKIM signing (dkimpy) when a key is configured."""

from __future__ import annotations

from pathlib import Path

import dkim

__all__ = ["DkimSigner"]

SIGNED_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
]


class DkimSigner:
    """Signs messages for ``domain`` with ``selector`` and the PEM private key in ``key_file``."""

    def __init__(self, selector: str, domain: str, key_file: str) -> None:
        self.selector = selector.encode()
        self.domain = domain.encode()
        self.key = Path(key_file).read_bytes()

    def sign(self, message: bytes) -> bytes:
        """Return the message with a ``DKIM-Signature`` header in front."""
        signature = dkim.sign(
            message, self.selector, self.domain, self.key, include_headers=SIGNED_HEADERS
        )
        return signature + message
