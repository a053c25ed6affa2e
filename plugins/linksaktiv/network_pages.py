"""Linksaktiv's console pages for reaching people: join links with QR codes per source (SVG,
PNG, a printable A4 sheet) and the info-stand mode, where a volunteer enters a contact on a
phone while the person reads the consent text.

Thin like the JSON routes: the links come from :mod:`plugins.linksaktiv.join_links`, a
contact entered at a stand goes through :func:`plugins.linksaktiv.stand.stand_entry`, which is
the public sign-up (``signup.join``) plus its audit row. Mounted under
``/app/orgs/{org_id}/linksaktiv``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from core import MenuItem
from core.api import (
    N_,
    OrgScope,
    Problem,
    console_form_errors,
    console_locale,
    not_found,
    render_console,
    requires,
    see_other,
    translate,
)
from plugins.linksaktiv import calls as call_service
from plugins.linksaktiv.config import HELP_OPTIONS, SOURCES
from plugins.linksaktiv.join_links import join_links, qr_png, qr_svg, short_link
from plugins.linksaktiv.public import consent_wording, read_join_form
from plugins.linksaktiv.signup import JoinIn
from plugins.linksaktiv.stand import stand_entry

__all__ = ["NETWORK_MENU", "SOURCE_LABELS", "network_pages"]

MANAGE = [requires("linksaktiv.manage")]
STAND = [requires("linksaktiv.stand")]
SOURCE_LABELS = {
    "info_stand": N_("Info stand"),
    "doors": N_("Doors"),
    "event": N_("Event"),
    "social_media": N_("Social media"),
    "web": N_("Website"),
}
NETWORK_MENU = [
    MenuItem(label=N_("Join links"), path="join", permission="linksaktiv.manage", order=62),
    MenuItem(label=N_("Info stand"), path="stand", permission="linksaktiv.stand", order=63),
]
_STAND_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "topics",
    "help",
    "source",
    "consent",
)


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/linksaktiv"


def _source(source: str) -> str:
    """``source`` when it is one of ``SOURCES`` (else a 404: no such page)."""
    if source not in SOURCES:
        raise not_found("resource")
    return source


@get("/join", guards=MANAGE)
async def join_link_list(request: Request, org: OrgScope) -> Response:
    """The unit's join link per source, each with its QR code and downloads."""
    title = translate(request, "Join links")
    links = [
        {
            **link,
            "svg": qr_svg(link["url"], translate(request, "QR code of %(url)s", url=link["url"])),
        }
        for link in join_links(org.id)
    ]
    return await render_console(
        request,
        "linksaktiv/join_links.html.jinja",
        title=title,
        breadcrumbs=[(title, f"{_base(org)}/join")],
        base=_base(org),
        links=links,
        source_labels=SOURCE_LABELS,
    )


def _download(body: bytes | str, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@get("/join/{source:str}/qr.svg", guards=MANAGE)
async def join_qr_svg(request: Request, org: OrgScope, source: str) -> Response:
    """The QR code of the source's join link as an SVG file (for flyers and posters)."""
    url = short_link(org.id, _source(source))
    svg = qr_svg(url, translate(request, "QR code of %(url)s", url=url), scale=10, inline=False)
    return _download(svg, "image/svg+xml", f"join-{org.id}-{source}.svg")


@get("/join/{source:str}/qr.png", guards=MANAGE)
async def join_qr_png(org: OrgScope, source: str) -> Response:
    """The QR code of the source's join link as a PNG file."""
    png = qr_png(short_link(org.id, _source(source)))
    return _download(png, "image/png", f"join-{org.id}-{source}.png")


@get("/join/{source:str}/sheet", guards=MANAGE)
async def join_sheet(request: Request, org: OrgScope, source: str) -> Response:
    """A printable A4 sheet: the party's text, the big QR code and the short link."""
    url = short_link(org.id, _source(source))
    title = translate(
        request, "Join sheet: %(source)s", source=translate(request, SOURCE_LABELS[source])
    )
    return await render_console(
        request,
        "linksaktiv/join_sheet.html.jinja",
        title=title,
        breadcrumbs=[(translate(request, "Join links"), f"{_base(org)}/join"), (title, "")],
        url=url,
        shown_url=url.split("://", 1)[-1],
        svg=qr_svg(url, translate(request, "QR code of %(url)s", url=url), scale=8),
    )


async def _stand_page(
    request: Request,
    org: OrgScope,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return await render_console(
        request,
        "linksaktiv/stand.html.jinja",
        status=status,
        title=translate(request, "Info stand"),
        action=f"{_base(org)}/stand",
        form=values or {"source": "info_stand"},
        errors=errors or {},
        topics=await call_service.topics(),
        help_options=HELP_OPTIONS,
        sources=SOURCES,
        source_labels=SOURCE_LABELS,
        consent_text=consent_wording(console_locale(request)),
    )


@get("/stand", guards=STAND)
async def stand_form(request: Request, org: OrgScope) -> Response:
    """The phone-first form of a volunteer at an info stand or a door, empty."""
    return await _stand_page(request, org)


@post("/stand", guards=STAND, status_code=200)
async def stand_submit(request: Request, org: OrgScope) -> Response:
    """Sign up the contact (pending until they confirm by mail), then the empty form again
    with "saved"; errors: the form again with them beside the fields, nothing saved."""
    form = await request.form()
    locale = console_locale(request)
    values, errors = read_join_form(form, locale)
    values["source"] = form.get("source") or "info_stand"
    if values["source"] not in SOURCES:
        errors["source"] = translate(request, "Choose one of the listed sources.")
    if not errors:
        try:
            await stand_entry(org.id, msgspec.convert(values, JoinIn), locale)
        except (Problem, msgspec.ValidationError) as exc:
            errors = console_form_errors(request, exc, _STAND_FIELDS)
    if errors:
        return await _stand_page(request, org, values, errors, status=422)
    saved = translate(request, "Saved. The contact gets a mail to confirm the address.")
    return see_other(f"{_base(org)}/stand", saved)


def network_pages() -> list:
    """The join-link and info-stand handlers."""
    return [join_link_list, join_qr_svg, join_qr_png, join_sheet, stand_form, stand_submit]
