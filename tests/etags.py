"""Helper for the ETag tests of every edited record: two organizers read it, both write."""

from __future__ import annotations

from typing import Any

PRECONDITION_FAILED = "urn:orga:problem:precondition-failed"


async def two_organizers(
    client: Any,
    url: str,
    first: tuple[Any, dict[str, Any]],
    second: tuple[Any, dict[str, Any]],
) -> dict[str, Any]:
    """Both organizers (``(user, patch body)``) GET ``url``, then PATCH it with the ETag they
    read: the first write passes and answers a new ETag, the second is a 412 that changes
    nothing. Returns the record as read afterwards."""
    reads = [await client.get(url, headers=user.headers) for user, _ in (first, second)]
    assert all(r.status_code == 200 for r in reads), [r.text for r in reads]
    etag = reads[0].headers["etag"]
    assert etag.startswith('"') and reads[1].headers["etag"] == etag

    won = await client.patch(url, json=first[1], headers={**first[0].headers, "If-Match": etag})
    assert won.status_code == 200, won.text
    assert won.headers["etag"] not in ("", etag)

    lost = await client.patch(url, json=second[1], headers={**second[0].headers, "If-Match": etag})
    assert lost.status_code == 412, lost.text
    assert lost.headers["content-type"].startswith("application/problem+json")
    assert lost.json()["type"] == PRECONDITION_FAILED

    after = await client.get(url, headers=first[0].headers)
    assert after.headers["etag"] == won.headers["etag"]  # the 412 wrote nothing
    return after.json()
