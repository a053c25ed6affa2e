"""The public API for modules: guards, scopes, errors, pagination, ETags and org-scoped lookups.

Modules import from here (and from :mod:`core`), never from core's internals, so core can
change its inside without breaking modules (an import-linter contract holds them to it).
This file only hands names on: each is defined where it belongs in core, and nothing in core
imports this file.
"""

from __future__ import annotations

from core import db
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
from core.jobs.services import enqueue, enqueue_many
from core.mail.message import format_address, sender_domain
from core.mail.service import UndeliverableMail
from core.mail.transport import TemporaryMailError
from core.migrations import add_sql, add_version
from core.orgs.owned import get_in_org, page_in_org
from core.orgs.paths import ancestors_sql, is_under, path_under_sql, subtree_sql
from core.orgs.postcodes import Coverage, normalize_postal_code, resolve_unit
from core.orgs.switches import (
    enabled_subtree_ids,
    module_enabled,
    module_on_anywhere,
    receiving_unit,
)
from core.orgs.tables import OrgUnit
from core.pagination import Page, check_limit, decode_cursor, encode_cursor, keyset_page, page_of
from core.people.consent import contactable_sql, not_opted_out_sql, record_consent
from core.people.gdpr import erase_person, export_person
from core.people.links import link_keys, open_person_token, person_token, person_tokens
from core.people.phones import normalize_phone
from core.people.schemas import ConsentIn, PersonIn
from core.people.services import (
    create_person,
    get_person_row,
    name_keys,
    read_people_page,
    scope,
    subtree_ids,
)
from core.people.signup import confirm_person, create_pending_person
from core.people.tables import Person
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
from core.runtime import run_async
from core.segments.builder import GROUP_LABELS
from core.segments.compiler import check_segment, compile_segment, parse_segment
from core.segments.filters import ActivityFilter, FilterContext, SegmentFilter
from core.segments.pages import (
    BuilderState,
    apply_builder_action,
    count_text,
    read_builder,
    segment_params,
)
from core.segments.types import SegmentDefinition
from core.settings import module_config
from core.signing import BadToken, check_short_mac, short_mac, sign, unsign
from core.spreadsheets import CsvWriter, XlsxWriter, safe_cell, spreadsheet_stream
from core.tables import AwareDatetime, Stamped, Versioned, to_row, utcnow
from core.templating import (
    RenderedMail,
    TemplateProblem,
    compile_user_template,
    render_off_loop,
    render_user_template,
)
from core.web.callcard import call_card_return, call_card_sections, call_grant, read_call_grant
from core.web.render import (
    console_form_errors,
    console_locale,
    next_page_href,
    render_console,
    see_other,
    translate,
)

__all__ = [
    "CALENDAR",
    "ETAG_HEADERS",
    "GROUP_LABELS",
    "HTML",
    "N_",
    "PRECONDITION_RESPONSES",
    "ActivityFilter",
    "Actor",
    "AwareDatetime",
    "BadToken",
    "BuilderState",
    "ConsentIn",
    "Coverage",
    "CsvWriter",
    "Demo",
    "FieldError",
    "FilterContext",
    "IfMatch",
    "OrgScope",
    "OrgUnit",
    "Page",
    "Person",
    "PersonIn",
    "Problem",
    "RateLimit",
    "RenderedMail",
    "SegmentDefinition",
    "SegmentFilter",
    "Stamped",
    "TemplateProblem",
    "TemporaryMailError",
    "UndeliverableMail",
    "Versioned",
    "XlsxWriter",
    "add_sql",
    "add_tags",
    "add_version",
    "ancestors_sql",
    "apply_builder_action",
    "audit_insert_sql",
    "authenticated",
    "cached",
    "call_card_return",
    "call_card_sections",
    "call_grant",
    "check_if_match",
    "check_limit",
    "check_segment",
    "check_short_mac",
    "client_address",
    "compile_segment",
    "compile_user_template",
    "confirm_person",
    "conflict",
    "console_form_errors",
    "console_locale",
    "contactable_sql",
    "count_text",
    "create_pending_person",
    "create_person",
    "current_runtime",
    "db",
    "decode_cursor",
    "drop_cached",
    "enabled_subtree_ids",
    "encode_cursor",
    "enqueue",
    "enqueue_many",
    "erase_person",
    "etag_of",
    "export_person",
    "forbidden",
    "form_errors",
    "form_int",
    "format_address",
    "get_in_org",
    "get_person_row",
    "gettext",
    "honeypot_tripped",
    "invalid",
    "is_under",
    "keyset_page",
    "link_keys",
    "module_config",
    "module_enabled",
    "module_on_anywhere",
    "name_keys",
    "next_page_href",
    "normalize_phone",
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
    "read_builder",
    "read_call_grant",
    "read_people_page",
    "receiving_unit",
    "record",
    "record_consent",
    "record_list",
    "render_console",
    "render_off_loop",
    "render_page",
    "render_user_template",
    "requires",
    "requires_any",
    "resolve_unit",
    "run_async",
    "safe_cell",
    "scope",
    "see_other",
    "segment_params",
    "sender_domain",
    "short_mac",
    "sign",
    "spreadsheet_stream",
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
