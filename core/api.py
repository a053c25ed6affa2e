"""The public API for modules: guards, scopes, errors, pagination, ETags and org-scoped lookups.

Modules import from here (and from :mod:`core`), never from core's internals, so core can
change its inside without breaking modules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from piccolo.table import Table

from core.audit.services import audit_insert_sql, record, record_list
from core.auth.actor import Actor
from core.auth.guards import OrgScope, authenticated, requires, requires_any
from core.auth.services import users_with_permission
from core.cache import cached, drop_cached, notify_changes
from core.context import current_runtime
from core.demo import Demo
from core.etags import (
    ETAG_HEADERS,
    PRECONDITION_RESPONSES,
    IfMatch,
    check_if_match,
    etag_of,
    with_etag,
)
from core.http import CALENDAR, HTML
from core.i18n import gettext
from core.jobs.services import enqueue
from core.orgs.paths import ancestors_sql, is_under, path_under_sql, subtree_sql
from core.orgs.postcodes import Coverage, normalize_postal_code, resolve_unit
from core.orgs.services import module_states
from core.orgs.switches import (
    enabled_subtree_ids,
    module_on_anywhere,
    receiving_unit,
)
from core.pagination import Page, check_limit, decode_cursor, keyset_page, page_of
from core.people.consent import contactable_sql, not_opted_out_sql, record_consent
from core.people.gdpr import erase_person, export_person
from core.people.links import link_keys, open_person_token, person_token, person_tokens
from core.people.schemas import ConsentIn
from core.people.services import get_person_row, scope, subtree_ids
from core.people.signup import confirm_person, create_pending_person
from core.people.tags import add_tags, tags_of
from core.problems import N_, FieldError, Problem, conflict, forbidden, invalid, not_found
from core.public import (
    RateLimit,
    client_address,
    form_errors,
    form_int,
    honeypot_tripped,
    page_locale,
    render_page,
)
from core.segments.compiler import check_segment, compile_segment, parse_segment
from core.segments.types import SegmentDefinition
from core.settings import module_config
from core.signing import BadToken, sign, unsign
from core.spreadsheets import CsvWriter, safe_cell
from core.tables import AwareDatetime, Stamped, Versioned, utcnow
from core.web.render import console_form_errors, render_console, see_other, translate

__all__ = [
    "CALENDAR",
    "ETAG_HEADERS",
    "HTML",
    "N_",
    "PRECONDITION_RESPONSES",
    "Actor",
    "AwareDatetime",
    "BadToken",
    "ConsentIn",
    "Coverage",
    "CsvWriter",
    "Demo",
    "FieldError",
    "IfMatch",
    "OrgScope",
    "Page",
    "Problem",
    "RateLimit",
    "SegmentDefinition",
    "Stamped",
    "Versioned",
    "add_tags",
    "ancestors_sql",
    "audit_insert_sql",
    "authenticated",
    "cached",
    "check_if_match",
    "check_limit",
    "check_segment",
    "client_address",
    "compile_segment",
    "confirm_person",
    "conflict",
    "console_form_errors",
    "contactable_sql",
    "create_pending_person",
    "current_runtime",
    "decode_cursor",
    "drop_cached",
    "enabled_subtree_ids",
    "enqueue",
    "erase_person",
    "etag_of",
    "export_person",
    "forbidden",
    "form_errors",
    "form_int",
    "get_in_org",
    "get_person_row",
    "gettext",
    "honeypot_tripped",
    "invalid",
    "is_under",
    "link_keys",
    "module_config",
    "module_enabled",
    "module_on_anywhere",
    "normalize_postal_code",
    "not_found",
    "not_opted_out_sql",
    "notify_changes",
    "open_person_token",
    "page_in_org",
    "page_locale",
    "page_of",
    "parse_segment",
    "path_under_sql",
    "person_token",
    "person_tokens",
    "receiving_unit",
    "record",
    "record_consent",
    "record_list",
    "render_console",
    "render_page",
    "requires",
    "requires_any",
    "resolve_unit",
    "safe_cell",
    "scope",
    "see_other",
    "sign",
    "subtree_ids",
    "subtree_sql",
    "tags_of",
    "to_row",
    "translate",
    "unsign",
    "users_with_permission",
    "utcnow",
    "with_etag",
]


def to_row(data: msgspec.Struct) -> dict[str, Any]:
    """A Struct's fields as column values: dates stay objects, nested Structs become JSON data."""
    values = {}
    for name, value in msgspec.structs.asdict(data).items():
        if value is msgspec.UNSET:
            continue
        plain = isinstance(value, (str, int, float, bool, datetime, date)) or value is None
        values[name] = value if plain else msgspec.to_builtins(value)
    return values


async def get_in_org(table: type[Table], object_id: int, org: OrgScope, what: str) -> dict:
    """The row ``object_id`` of ``table`` owned by unit ``org`` (column ``org``), else 404."""
    row = (
        await table.select()
        .where(
            (table._meta.primary_key == object_id) & (table.org == org.id)  # type: ignore[attr-defined]
        )
        .first()
        .run()
    )
    if row is None:
        raise not_found(what)
    return row


async def page_in_org(
    table: type[Table], org: OrgScope, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page (newest first) of the rows of ``table`` owned by unit ``org``."""
    query = table.select().where(table.org == org.id)  # type: ignore[attr-defined]
    return await keyset_page(query, table._meta.primary_key, limit, cursor, newest_first=True)


async def module_enabled(name: str, org_path: str) -> bool:
    """Whether module ``name`` is installed here and switched on for the unit at ``org_path``."""
    if name not in current_runtime().registry.modules:
        return False
    return (await module_states(org_path, [name]))[name]
