"""Rendering a mailing for one person: Jinja2 (sandbox) → Markdown → branded text + HTML.

The body is a template users write, so it renders in core's sandbox with its limits (errors
carry the line); :meth:`Renderer.render` is synchronous work that callers run in core's template
threads (``render_off_loop``), never on the event loop.
The result is Markdown: the text part shows it as written (Markdown reads well as plain text),
the HTML part is rendered with cmarkgfm (bindings to cmark, the CommonMark reference
implementation in C, about 60 times faster than a pure-Python parser; its safe default drops
raw HTML and ``javascript:`` links, so nothing a person field contains can inject markup).
Both go into the layout ``mail/mailing.txt.jinja`` / ``mail/mailing.html.jinja``, which a
deployment can override.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import cmarkgfm
import msgspec
from markupsafe import Markup, escape

from core.api import (
    RenderedMail,
    TemplateProblem,
    format_address,
    render_user_template,
    sender_domain,
    sign,
)

__all__ = [
    "ANONYMOUS",
    "CLICK_PURPOSE",
    "OPEN_PURPOSE",
    "PERSON_FIELDS",
    "UNSUBSCRIBE_PURPOSE",
    "WEB_PURPOSE",
    "Renderer",
    "TemplateProblem",
    "list_id",
    "message_id",
    "salutation",
    "web_url",
]

UNSUBSCRIBE_PURPOSE = "mailings.unsubscribe"
CLICK_PURPOSE = "mailings.click"
OPEN_PURPOSE = "mailings.open"
PERSON_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "postal_code",
    "city",
    "country",
    "language",
    "member_status",
)
_HREF = re.compile(r'href="(https?://[^"]+)"')
WEB_PURPOSE = "mailings.web"
ANONYMOUS: dict[str, Any] = {f: "" for f in PERSON_FIELDS} | {"id": 0}
"""The person of the web version and of the sample preview without a name: no personal data."""

# ``person.salutation``: the greeting by the gender a unit keeps in the custom field ``gender``
# (female, male; anything else or nothing: the neutral form), in the person's language.
GENDER_FIELD = "gender"
_GENDERS = {
    "female": ("female", "f", "w", "weiblich", "frau", "woman", "kvinna", "k"),
    "male": ("male", "m", "männlich", "mann", "man"),
}
_SALUTATIONS = {
    "de": {"female": "Liebe {name}", "male": "Lieber {name}", None: "Hallo {name}"},
    "en": {"female": "Dear {name}", "male": "Dear {name}", None: "Hello {name}"},
    "sv": {"female": "Hej {name}", "male": "Hej {name}", None: "Hej {name}"},
}


def _gender(person: dict[str, Any]) -> str | None:
    """``female``, ``male`` or ``None`` (unknown) from the person's custom field ``gender``."""
    fields = person.get("custom_fields")
    if isinstance(fields, (str, bytes)):
        try:
            fields = msgspec.json.decode(fields)
        except msgspec.DecodeError:
            fields = None
    value = fields.get(GENDER_FIELD) if isinstance(fields, dict) else None
    value = str(value).strip().lower() if value is not None else ""
    return next((g for g, words in _GENDERS.items() if value in words), None)


def salutation(person: dict[str, Any], locale: str) -> str:
    """The greeting for ``person`` in ``locale``: "Liebe Erika", "Lieber Jürgen", "Hallo Sam";
    without a first name the neutral greeting alone ("Hallo")."""
    forms = _SALUTATIONS.get(locale, _SALUTATIONS["en"])
    name = (person.get("first_name") or "").strip()
    form = forms[_gender(person)] if name else forms[None]
    return form.format(name=name).strip()


def web_url(public_url: str, mailing_id: int) -> str:
    """The public web version of a mailing: a signed link naming only the mailing."""
    return f"{public_url.rstrip('/')}/p/mailings/web/{sign(WEB_PURPOSE, int(mailing_id))}"


def message_id(mailing: dict[str, Any], recipient_id: int) -> str:
    """The Message-ID of a recipient's mail.

    It names the mailing's random ``send_key`` (drawn when sending starts), so every retry of
    this mail carries the same one (a receiver drops the duplicate if a crash lands between
    the server's acceptance and our bookkeeping), while another deployment on the same domain,
    or a copy restored from a backup, draws its own key and never reuses it.
    """
    domain = sender_domain(mailing["sender_address"])
    return f"<m{mailing['id']}.r{recipient_id}.{mailing['send_key']}@{domain}>"


def list_id(mailing: dict[str, Any], org: dict[str, Any]) -> str:
    """``List-Id`` (RFC 2919) of the unit's mailings: ``KV Leipzig <org12.mailings.domain>``,
    the same for every mailing of the unit, so mail clients can sort and filter them."""
    label = f"org{org['id']}.mailings.{sender_domain(mailing['sender_address'])}"
    return format_address(org["name"], label)


@dataclass
class Rendered:
    """A recipient's mail and its list headers."""

    mail: RenderedMail
    headers: dict[str, str]


class Renderer:
    """Renders one mailing for many people (the layout and settings are looked up once)."""

    def __init__(
        self,
        *,
        templates: Any,
        public_url: str,
        mailing: dict[str, Any],
        org: dict[str, Any],
        tracking: bool = False,
        unsubscribe_mailto: str | None = None,
        default_locale: str = "de",
    ) -> None:
        self.templates = templates
        self.public_url = public_url.rstrip("/")
        self.mailing = mailing
        self.org = {"id": org["id"], "name": org["name"], "kind": org.get("kind")}
        self.tracking = tracking
        self.mailto = unsubscribe_mailto
        self.default_locale = default_locale
        self.list_id = list_id(mailing, org)
        self.web_url = web_url(public_url, mailing["id"])
        self._layouts: dict[tuple[str, bool], RenderedMail] = {}

    def locale_of(self, person: dict[str, Any]) -> str:
        """The language the person's mail is written in (theirs, else the deployment's)."""
        language = person.get("language")
        return language if language in ("de", "en", "sv") else self.default_locale

    def context(self, person: dict[str, Any], extra: dict[str, Any] | None = None) -> dict:
        """Variables of the body: ``person`` (with ``salutation``), ``org``, ``cta_url`` and
        what modules add."""
        shown = {k: person.get(k) for k in PERSON_FIELDS}
        shown["salutation"] = salutation(person, self.locale_of(person))
        return {
            **(extra or {}),
            "person": shown,
            "org": self.org,
            "cta_url": self.mailing.get("cta_url"),
        }

    def web(self, extra: dict[str, Any] | None = None) -> tuple[str, str, str]:
        """Subject, HTML and Markdown of the web version: the body for :data:`ANONYMOUS`.

        Raises:
            TemplateProblem: the body needs what only a recipient has.
        """
        subject, markdown = self.body(self.context(ANONYMOUS, extra))
        return subject, cmarkgfm.markdown_to_html(markdown), markdown

    def body(self, context: dict[str, Any]) -> tuple[str, str]:
        """Subject and Markdown body for ``context``.

        Raises:
            TemplateProblem: with ``field`` set to ``subject`` or ``body``.
        """
        subject = _render("subject", self.mailing["subject"], context)
        return " ".join(subject.split()), _render("body", self.mailing["body"], context)

    def layout(self, locale: str, pixel: bool) -> RenderedMail:
        """The branded layout in ``locale`` with placeholders, rendered once per renderer.

        The layout is the same for every recipient but for the per-person values, so it
        renders once (its translations too) and :meth:`render` fills the placeholders in one
        pass (values put in are never scanned again, so no person can inject a placeholder).
        """
        key = (locale, pixel)
        if key not in self._layouts:
            cta = self.mailing.get("cta_url")
            self._layouts[key] = self.templates.render_mail(
                "mail/mailing",
                {
                    "locale": locale,
                    "subject": _slot("subject"),
                    "body_text": _slot("body_text"),
                    "body_html": Markup(_slot("body_html")),  # noqa: S704 - a placeholder
                    "cta_url": cta,
                    "cta_href": _slot("cta_href") if cta else None,
                    "cta_label": self.mailing.get("cta_label"),
                    "org_name": self.org["name"],
                    "unsubscribe_url": _slot("unsubscribe_url"),
                    "web_url": self.web_url,
                    "pixel_url": _slot("pixel_url") if pixel else None,
                },
                locale,
            )
        return self._layouts[key]

    def render(
        self, person: dict[str, Any], recipient_id: int, extra: dict[str, Any] | None = None
    ) -> Rendered:
        """The whole mail for a person (``recipient_id`` 0 for tests: links lead nowhere).

        ``person["link_key"]`` (from core's ``link_keys``) binds the unsubscribe link to them.
        """
        subject, markdown = self.body(self.context(person, extra))
        html_body = cmarkgfm.markdown_to_html(markdown)
        cta = self.mailing.get("cta_url") or ""
        cta_href = cta
        pixel = ""
        if self.tracking and recipient_id:
            html_body = _HREF.sub(lambda m: f'href="{self._click(recipient_id, m[1])}"', html_body)
            cta_href = self._click(recipient_id, cta) if cta else ""
            pixel = f"{self.public_url}/p/mailings/o/{sign(OPEN_PURPOSE, recipient_id)}"
        # The unsubscribe link opens only while the person keeps their link key (core's
        # person links): it dies with the person and with a change of their address.
        token = sign(
            UNSUBSCRIBE_PURPOSE, [person.get("link_key") if recipient_id else None, recipient_id]
        )
        unsubscribe = f"{self.public_url}/p/mailings/unsubscribe/{token}"
        layout = self.layout(self.locale_of(person), bool(pixel))
        text_values = {
            "subject": subject,
            "body_text": markdown,
            "cta_href": cta_href,
            "unsubscribe_url": unsubscribe,
            "pixel_url": pixel,
        }
        html_values = {k: str(escape(v)) for k, v in text_values.items()}
        html_values["body_html"] = html_body
        mail = RenderedMail(
            subject=_fill(layout.subject, text_values),
            text=_fill(layout.text, text_values),
            html=_fill(layout.html, html_values) if layout.html is not None else None,
        )
        headers = {
            "List-Id": self.list_id,
            "List-Unsubscribe": self._list_unsubscribe(unsubscribe, token),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return Rendered(mail=mail, headers=headers)

    def _click(self, recipient_id: int, url: str) -> str:
        return f"{self.public_url}/p/mailings/c/{sign(CLICK_PURPOSE, [recipient_id, url])}"

    def _list_unsubscribe(self, url: str, token: str) -> str:
        value = f"<{url}>"
        if self.mailto:
            value += f", <mailto:{self.mailto}?subject=unsubscribe%20{token}>"
        return value


_SLOT = re.compile(r"@@orga-slot:(\w+)@@")


def _slot(name: str) -> str:
    return f"@@orga-slot:{name}@@"


def _fill(layout: str, values: dict[str, str]) -> str:
    """Replace every placeholder in ONE pass (inserted text is not scanned again)."""
    return _SLOT.sub(lambda m: values[m[1]], layout)


def _render(field: str, source: str, context: dict[str, Any]) -> str:
    try:
        return render_user_template(source, context)
    except TemplateProblem as exc:
        exc.field = field  # type: ignore[attr-defined]
        raise
