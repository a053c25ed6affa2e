"""QR codes of an event's public page (segno): inline SVG for the console, PNG to print."""

from __future__ import annotations

import io
from html import escape

import segno
from markupsafe import Markup

__all__ = ["qr_png", "qr_svg"]


def qr_svg(url: str, label: str) -> Markup:
    """The QR code of ``url`` as an inline SVG picture named ``label`` (for screen readers)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, svgclass="qr", lineclass=None)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S704 - segno's SVG, escaped label


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG large enough to print on a poster or flyer."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=10, border=4)
    return out.getvalue()
