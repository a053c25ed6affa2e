"""The running orga of the current task, for code that has no request at hand (job handlers).

Core sets it for every request, for the app's lifespan (startup hooks, the inline worker) and
around every job handler, so ``current_runtime()`` works wherever module code runs. This file
stands below everything that asks for the runtime: it names the :class:`core.runtime.Runtime`
only in words (importing it would tie every service to what the runtime holds).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

__all__ = [
    "acting",
    "current_runtime",
    "runtime_middleware",
    "runtime_or_none",
    "set_acting",
    "set_runtime",
]

_current: ContextVar[Any] = ContextVar("orga_runtime")
_acting: ContextVar[Any] = ContextVar("orga_acting", default=None)


def current_runtime() -> Any:
    """The :class:`core.runtime.Runtime` serving the current request or job.

    Raises:
        RuntimeError: outside a request, a job or the app's lifespan.
    """
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError(
            "no orga runtime: call inside a request, a job or the lifespan"
        ) from None


def runtime_or_none() -> Any:
    """The current runtime, or ``None`` outside a request, a job or the lifespan."""
    return _current.get(None)


def acting() -> Any:
    """The actor (``core.api.Actor``) the current request acts as, or ``None`` (a public page,
    a job, a command): services read it for their audit rows."""
    return _acting.get()


def set_acting(actor: Any) -> None:
    """Make ``actor`` the current request's actor (the guards do, once it is known)."""
    _acting.set(actor)


def set_runtime(runtime: Any) -> Any:
    """Make ``runtime`` current for this task; returns the token to reset it."""
    return _current.set(runtime)


def runtime_middleware(runtime: Any):
    """ASGI middleware factory making ``runtime`` current for each request."""

    def factory(app):
        async def middleware(scope, receive, send):
            _current.set(runtime)
            _acting.set(None)
            await app(scope, receive, send)

        return middleware

    return factory
