"""Building MIME messages: text + HTML alternative, proper encodings, Message-ID and Date.

Messages are assembled directly as bytes with the standard library's encoders (RFC 2047
encoded-words for non-ASCII headers, quoted-printable UTF-8 bodies): the ``email`` package's
object model costs about 2.5 ms a message, too slow for mass mailings, while this costs a few
hundredths of that. Tests parse every result back with the standard library's parser.
"""

from __future__ import annotations

import binascii
import secrets
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr

from core.tables import utcnow

__all__ = ["build_message", "format_address", "new_message_id"]

_ADDRESS_HEADERS = frozenset({"from", "to", "reply-to", "cc"})


def format_address(name: str, email: str) -> str:
    """``Jürgen Müller <j@example.org>`` (the name is encoded when the header is written)."""
    return formataddr((name, email))


def new_message_id(sender: str) -> str:
    """A fresh ``<…@domain>`` Message-ID in the sender's domain."""
    domain = parseaddr(sender)[1].partition("@")[2] or "localhost"
    return make_msgid(domain=domain)


def _clean(value: str) -> str:
    """No CR/LF in header values (header injection)."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _header(name: str, value: str) -> bytes:
    value = _clean(value)
    if name.lower() in _ADDRESS_HEADERS:
        value = ", ".join(formataddr(pair, charset="utf-8") for pair in getaddresses([value]))
    elif not value.isascii():
        value = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {value}\r\n".encode("ascii")


def _qp_part(subtype: str, body: str) -> bytes:
    encoded = binascii.b2a_qp(body.encode("utf-8"), quotetabs=False, istext=True)
    encoded = encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return (
        (
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode("ascii")
        + encoded
        + b"\r\n"
    )


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The RFC 5322 bytes of a ``multipart/alternative`` mail (plain text when no ``html``)."""
    head = [
        _header("From", sender),
        _header("To", to),
        _header("Subject", subject),
        _header("Date", format_datetime(utcnow())),
        _header("Message-ID", message_id or new_message_id(sender)),
    ]
    if reply_to:
        head.append(_header("Reply-To", reply_to))
    head += [_header(name, value) for name, value in (headers or {}).items()]
    head.append(b"MIME-Version: 1.0\r\n")
    if html is None:
        return b"".join(head) + _qp_part("plain", text)
    boundary = f"=_orga_{secrets.token_hex(12)}"
    return b"".join(
        [
            *head,
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
            f"--{boundary}\r\n".encode(),
            _qp_part("plain", text),
            f"--{boundary}\r\n".encode(),
            _qp_part("html", html),
            f"--{boundary}--\r\n".encode(),
        ]
    )
