"""Helpers for console tests over HTTP: log in through the form, read CSRF tokens."""

from __future__ import annotations

import re

from core.testing import TEST_PASSWORD as PASSWORD


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on the page."""
    match = re.search(r'name="_csrf" value="([^"]*)"', html)
    assert match, html[:2000]
    return match.group(1)


async def console_login(client, email: str, password: str = PASSWORD):
    """Log in through the login form; returns the final response after the redirect."""
    page = await client.get("/app/login")
    assert page.status_code == 200, page.text
    return await client.post(
        "/app/login",
        data={"email": email, "password": password, "_csrf": csrf_of(page.text), "next": "/app"},
    )
