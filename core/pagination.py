"""One pagination style: keyset pages ``?limit=&cursor=`` → ``{items, next_cursor}``.

The cursor is an opaque base64url token holding the sort key of the last item; the next page
starts strictly after it, so a page costs the same at any depth (an index on the sort key plus
``id`` serves it).
"""

from __future__ import annotations

import base64
from typing import Any, Generic, TypeVar

import msgspec

from core.problems import invalid

__all__ = ["Page", "decode_cursor", "encode_cursor", "keyset_page", "page_of"]

T = TypeVar("T")
MAX_LIMIT = 500


class Page(msgspec.Struct, Generic[T]):
    """A page of items and the cursor for the next one (``None`` at the end)."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    """Encode a sort key (e.g. ``[created_at_iso, id]``) as an opaque cursor."""
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: Any = tuple[int]) -> Any:
    """Decode a cursor into ``shape`` (default ``tuple[int]``, the last item's id); a malformed
    one, or one of another shape, is a 422 naming the ``cursor`` parameter."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return msgspec.json.decode(base64.urlsafe_b64decode(padded.encode()), type=shape)
    except (ValueError, msgspec.DecodeError) as exc:
        raise invalid("cursor", "malformed cursor") from exc


def check_limit(limit: int) -> int:
    """Validate ``?limit=`` (1 to 500)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def page_of(rows: list[T], limit: int, key: Any) -> Page[T]:
    """Build a page from ``limit + 1`` fetched rows; ``key(row)`` gives the sort key list."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(items=rows, next_cursor=encode_cursor(key(rows[-1])))
    return Page(items=rows, next_cursor=None)


async def keyset_page(
    query: Any, id_column: Any, limit: int, cursor: str | None, newest_first: bool = False
) -> Page[dict[str, Any]]:
    """Run a Piccolo select as one keyset page ordered by ``id_column`` (selected as ``id``)."""
    check_limit(limit)
    key = decode_cursor(cursor)
    if key is not None:
        after = key[0]
        query = query.where(id_column < after if newest_first else id_column > after)
    rows = await query.order_by(id_column, ascending=not newest_first).limit(limit + 1).run()
    return page_of(rows, limit, key=lambda r: [r["id"]])
