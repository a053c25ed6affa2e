"""Settings of the linksaktiv module (``[orga.linksaktiv]`` or ``ORGA_LINKSAKTIV__<KEY>``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.api import current_runtime, module_config

__all__ = ["DEFAULT_TOPICS", "HELP_OPTIONS", "SOURCES", "LinksaktivConfig", "config"]

DEFAULT_TOPICS = (
    "care:Pflege",
    "rent:Miete",
    "transport:Verkehr",
    "redistribution:Umverteilen",
    "peace:Frieden",
)
HELP_OPTIONS = ("newspapers", "info_stand", "doors", "phone", "online")
SOURCES = ("info_stand", "doors", "event", "social_media", "web")


class LinksaktivConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Module settings with their defaults.

    Attributes:
        topics: ``slug:title`` pairs the topic list starts with (topics are then edited
            through the API).
        office_pickup: True: an order inside an office's coverage is picked up there;
            False: every order is shipped.
        shipping_min_copies / shipping_max_copies: free shipping only for this many copies
            (an order outside asks for another quantity).
        referral_help: ways to help that count as "help in the election campaign" and hand
            the volunteer to the campaign leadership.
        referral_reminder_days: remind the leadership when a referral is still new after
            this many days.
        referral_escalate_days: a referral nobody answered this many days after it reached
            a unit moves up to the next unit whose members hold ``linksaktiv.referrals``
            (0: never).
        confirm_days / link_days: how long confirmation and personal-page links stay valid.
        signups_per_minute: sign-ups per client address and minute on the public form.
        events_module: the module whose ``person_summary`` is shown as "my events" on the
            personal page when it is installed (never imported: it comes through the hook).
        digest_weekday / digest_hour: when the weekly digest of new calls to action goes out
            (0 = Monday, hour in the deployment's time zone).
    """

    topics: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_TOPICS))
    office_pickup: bool = True
    shipping_min_copies: int = 10
    shipping_max_copies: int = 500
    referral_help: list[str] = msgspec.field(
        default_factory=lambda: ["info_stand", "doors", "phone"]
    )
    referral_reminder_days: int = 3
    referral_escalate_days: int = 7
    confirm_days: int = 14
    link_days: int = 30
    signups_per_minute: int = 20
    events_module: str = "events"
    digest_weekday: Annotated[int, msgspec.Meta(ge=0, le=6)] = 0
    digest_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 8


def config() -> LinksaktivConfig:
    """The current deployment's linksaktiv settings."""
    return module_config(current_runtime().settings, "linksaktiv", LinksaktivConfig)
