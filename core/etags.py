"""Optimistic concurrency: a record's ``ETag``, and ``If-Match`` on the write (412 when stale).

Records that several organizers edit (people, call assignments, events, mailings) carry a
``version`` (:class:`core.tables.Versioned`). A database trigger adds one to it on every UPDATE
of the row, whoever writes it (core, a module, raw SQL), so no write can forget it; changes of a
person's lists (phones, tags, consents) touch the person's row (:func:`touch`). The ETag is
derived from the record's id and version.

GET answers the ETag; a PATCH that sends ``If-Match`` naming an ETag that is no longer current
is answered 412 ``precondition-failed`` and changes nothing. The check runs in the write's
transaction with the row locked, so of two writers holding the same ETag exactly one passes.
A PATCH without ``If-Match`` still works and overwrites blindly: clients should send it.

The ETag names the version of the record's own fields; figures computed from other records
(an event's participant counts, a mailing's progress, a person's module summaries) change
without changing it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter
from piccolo.table import Table

from core import db
from core.problems import PROBLEM_MEDIA_TYPE, Problem, ProblemBody
from core.tables import utcnow

__all__ = [
    "ETAG_HEADERS",
    "PRECONDITION_RESPONSES",
    "IfMatch",
    "check_if_match",
    "etag_of",
    "touch",
    "with_etag",
]

#: The ``If-Match`` request header of a PATCH: declare it as ``if_match: IfMatch = None``.
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description="The ETag you read (from GET): the write fails with 412 if the record "
        "changed since. Without it the write overwrites whatever is there.",
    ),
]

#: The ``ETag`` response header, for the OpenAPI document of a GET or PATCH.
ETAG_HEADERS = [
    ResponseHeader(
        name="ETag",
        description="The record's version; send it as If-Match when you change the record.",
        value='"…"',  # documents the header as a string (each answer sets its own)
        documentation_only=True,
    )
]

#: The 412 answer of a PATCH taking ``If-Match``, for the OpenAPI document.
PRECONDITION_RESPONSES = {
    412: ResponseSpec(
        ProblemBody,
        description="If-Match names no current ETag: the record changed since you read it",
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )
}

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def etag_of(row: Mapping[str, Any]) -> str:
    """The strong ETag of a record of a versioned table (from its ``id`` and ``version``)."""
    digest = hashlib.blake2b(f"{row['id']}:{row['version']}".encode(), digest_size=8)
    return f'"{digest.hexdigest()}"'


def _matches(if_match: str, etag: str) -> bool:
    """RFC 9110 If-Match: ``*``, or a list of entity tags compared strongly (a weak tag never
    matches); a header that is not such a list matches nothing."""
    if if_match.strip() == "*":
        return True
    position, tags = 0, []
    while position < len(if_match):
        found = _TAG.match(if_match, position)
        if found is None:
            return False
        if not found.group(1):
            tags.append(f'"{found.group(2)}"')
        position = found.end()
    return etag in tags


async def check_if_match(if_match: str | None, table: type[Table], row: Mapping[str, Any]) -> None:
    """Call inside the write's transaction, before writing: lock ``row`` of ``table`` until the
    commit (PostgreSQL ``FOR UPDATE``; SQLite's write transaction holds the lock already) and
    answer 412 when ``if_match`` (the ``If-Match`` header) names no current ETag of it. Check
    that the caller may see the row first, so a 412 never tells of one they may not."""
    lock = " FOR UPDATE" if db.is_postgres() else ""
    current = await db.fetch_one(
        f"SELECT id, version FROM {table._meta.tablename} WHERE id = {{}}{lock}", row["id"]
    )
    if if_match is None or current is None:
        return
    if not _matches(if_match, etag_of(current)):
        raise Problem(
            412,
            "precondition-failed",
            "The record was changed since you read it: read it again, then repeat your change.",
        )


def with_etag(content: Any, row: Mapping[str, Any]) -> Response[Any]:
    """``content`` answered with the ``ETag`` of ``row`` (the record it shows)."""
    return Response(content, headers={"ETag": etag_of(row)})


async def touch(table: type[Table], ids: list[int]) -> None:
    """Mark records changed (``updated_at`` now, a new version) when data kept in other tables
    that belongs to them changed, e.g. a person's tags."""
    if not ids:
        return
    marks = ", ".join(["{}"] * len(ids))
    await db.execute(
        f"UPDATE {table._meta.tablename} SET updated_at = {{}} WHERE id IN ({marks})",
        utcnow(),
        *ids,
    )
