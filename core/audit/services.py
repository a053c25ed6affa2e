"""The one audit call: :func:`record`. Rows hold ids and action names, never personal data."""

from __future__ import annotations

from typing import Any

import msgspec

from core import db
from core.tables import utcnow

__all__ = ["record"]


async def record(
    action: str,
    *,
    user_id: int | None = None,
    token_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    org_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit row: in the current transaction when there is one; in a request that
    has written nothing yet, when the request succeeds (a refused request leaves no row, an
    audited read holds no transaction while it reads). Raw SQL: this runs on every
    personal-data read, and Piccolo's query building would cost more than the insert.

    Args:
        action: dotted action name, e.g. ``auth.login``, ``person.read``, ``module.enable``.
        user_id: who acted (``None`` for anonymous, e.g. a failed login for an unknown e-mail).
        token_id: the session or API token used.
        object_type: kind of object acted on (``person``, ``user``, ``org_unit``…).
        object_id: its id.
        org_id: the org unit the action happened in.
        detail: ids and codes only (e.g. ``{"role": "caller"}``), never names or addresses.
    """
    values = (
        utcnow(),
        user_id,
        token_id,
        action,
        object_type,
        object_id,
        org_id,
        None if detail is None else msgspec.json.encode(detail).decode(),
    )
    await db.on_success(lambda: db.execute(_INSERT, *values))


_INSERT = (
    "INSERT INTO audit_log (at, user_id, token_id, action, object_type, object_id, org_id, "
    "detail) VALUES ({}, {}, {}, {}, {}, {}, {}, {})"
)
