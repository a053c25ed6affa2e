"""Building MIME messages: text + HTML alternative, proper encodings, Message-ID and Date."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from core.tables import utcnow

__all__ = ["build_message", "format_address", "new_message_id"]


def format_address(name: str, email: str) -> str:
    """``Jürgen Müller <j@example.org>`` with the name encoded as needed (RFC 2047)."""
    local, _, domain = email.partition("@")
    return str(Address(display_name=name, username=local, domain=domain))


def new_message_id(sender: str) -> str:
    """A fresh ``<…@domain>`` Message-ID in the sender's domain."""
    domain = parseaddr(sender)[1].partition("@")[2] or "localhost"
    return make_msgid(domain=domain)


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
) -> EmailMessage:
    """A ``multipart/alternative`` message (or plain text when ``html`` is ``None``)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or new_message_id(sender)
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message
