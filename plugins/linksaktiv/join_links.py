"""Join links per unit and source: a short signed link for print (QR code as SVG and PNG)
that opens the public join form with the unit and source set (see ``signup.source_link``)."""

from __future__ import annotations

import io

import segno

from core.api import check_short_mac, current_runtime, short_mac
from plugins.linksaktiv.config import SOURCES
from plugins.linksaktiv.signup import source_link

__all__ = ["SHORT_PURPOSE", "join_links", "open_short_link", "qr_png", "qr_svg", "short_link"]

SHORT_PURPOSE = "linksaktiv.short"


def _text(org_id: int, source: str) -> str:
    return f"{org_id}/{source}"


def short_link(org_id: int, source: str) -> str:
    """The printed join link of unit ``org_id`` and ``source``:
    ``<public_url>/p/linksaktiv/j/<unit>/<source>/<mac>``. Short enough to type; the MAC
    (64 bits) makes another unit's or source's link unforgeable."""
    base = current_runtime().settings.public_url.rstrip("/")
    mac = short_mac(SHORT_PURPOSE, _text(org_id, source))
    return f"{base}/p/linksaktiv/j/{_text(org_id, source)}/{mac}"


def open_short_link(org_id: int, source: str, mac: str) -> str | None:
    """The join form's signed link for a printed link, or ``None`` when the link was changed
    (unit, source or MAC) or names no source."""
    if source not in SOURCES or not check_short_mac(SHORT_PURPOSE, _text(org_id, source), mac):
        return None
    return source_link(org_id, source)


def join_links(org_id: int) -> list[dict[str, str]]:
    """Every source's printed link of unit ``org_id``, in the order of ``SOURCES``."""
    return [{"source": source, "url": short_link(org_id, source)} for source in SOURCES]


def _code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, title: str, scale: int = 4, inline: bool = True) -> str:
    """The QR code of ``url`` as SVG (``title`` as its accessible name); ``inline`` leaves
    out the XML declaration, for the page itself."""
    code = _code(url)
    if inline:
        return code.svg_inline(scale=scale, title=title, svgclass="qr", lineclass=None)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, title=title, svgclass="qr", lineclass=None)
    return out.getvalue().decode()


def qr_png(url: str, scale: int = 10) -> bytes:
    """The QR code of ``url`` as PNG (``scale`` pixels per module, quiet zone included)."""
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=scale)
    return out.getvalue()
