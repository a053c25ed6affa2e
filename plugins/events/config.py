"""Deployment settings of the events module (``[orga.events]`` or ``ORGA_EVENTS__<KEY>``)."""

from __future__ import annotations

import msgspec

from core.api import current_runtime, module_config

__all__ = ["DEFAULT_TYPES", "EventsConfig", "events_config"]

DEFAULT_TYPES = (
    "info_stand",
    "canvassing",
    "distribution",
    "meeting",
    "demo",
    "phone_bank",
    "other",
)


class EventsConfig(msgspec.Struct, kw_only=True):
    """Settings of the events module.

    Attributes:
        types: allowed event types, a list in orga.toml or comma separated in the environment
            (``ORGA_EVENTS__TYPES=info_stand,demo,plakatieren``).
        signup_limit: public sign-ups per client address and minute.
        feed_past_days: how many days back the iCalendar feeds reach.
        public_list_limit: events on one public list page (a link leads to later ones).
    """

    types: list[str] | str = msgspec.field(default_factory=lambda: list(DEFAULT_TYPES))
    signup_limit: int = 10
    feed_past_days: int = 90
    public_list_limit: int = 50

    def __post_init__(self) -> None:
        if isinstance(self.types, str):
            self.types = [t.strip() for t in self.types.split(",") if t.strip()]
        if not self.types:
            raise msgspec.ValidationError("at least one event type is needed - at `$.types`")


def events_config() -> EventsConfig:
    """The current deployment's events settings."""
    return module_config(current_runtime().settings, "events", EventsConfig)
