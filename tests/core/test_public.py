"""Shared pieces of the public pages: signed tokens, rate limits, module settings, matching
sign-ups, and the live server with headless Chromium that the module page tests use."""

from __future__ import annotations

import time

import msgspec
import pytest

from core.api import BadToken, RateLimit, check_short_mac, short_mac, sign, unsign
from core.settings import SettingsError, load_settings, module_config

SECRET = "s" * 40


def test_signed_token_round_trip_and_purpose_binding():
    token = sign("events.cancel", {"p": 7}, secret=SECRET)
    assert unsign("events.cancel", token, secret=SECRET) == {"p": 7}
    with pytest.raises(BadToken):
        unsign("mailings.unsubscribe", token, secret=SECRET)
    with pytest.raises(BadToken):
        unsign("events.cancel", token, secret="t" * 40)
    _payload, mac = token.split(".")
    forged = sign("events.cancel", {"p": 8}, secret=SECRET).split(".")[0] + "." + mac
    with pytest.raises(BadToken):
        unsign("events.cancel", forged, secret=SECRET)
    with pytest.raises(BadToken):
        unsign("events.cancel", "garbage", secret=SECRET)


def test_signed_token_expires():
    token = sign("x", 1, secret=SECRET)
    time.sleep(1.1)
    assert unsign("x", token, max_age=5, secret=SECRET) == 1
    with pytest.raises(BadToken):
        unsign("x", token, max_age=1, secret=SECRET)


def test_short_mac_is_short_stable_and_bound_to_text_purpose_and_secret():
    mac = short_mac("linksaktiv.short", "12/doors", secret=SECRET)
    assert len(mac) == 11 and mac == short_mac("linksaktiv.short", "12/doors", secret=SECRET)
    assert check_short_mac("linksaktiv.short", "12/doors", mac, secret=SECRET)
    for purpose, text, secret in (
        ("linksaktiv.short", "13/doors", SECRET),
        ("linksaktiv.short", "12/event", SECRET),
        ("events.cancel", "12/doors", SECRET),
        ("linksaktiv.short", "12/doors", "t" * 40),
    ):
        assert not check_short_mac(purpose, text, mac, secret=secret)
    assert not check_short_mac("linksaktiv.short", "12/doors", mac[:-1], secret=SECRET)
    assert not check_short_mac("linksaktiv.short", "12/doors", "ä" * 11, secret=SECRET)


def test_rate_limit_counts_per_key():
    limit = RateLimit(3, window=60)
    assert [limit.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limit.hit("b")


class CallingConfig(msgspec.Struct):
    reservation_minutes: int = 15
    notes: bool = True


def test_module_config_from_environment(tmp_path):
    settings = load_settings(
        environ={"ORGA_CALLING__RESERVATION_MINUTES": "30"}, var_dir=str(tmp_path)
    )
    assert module_config(settings, "calling", CallingConfig).reservation_minutes == 30
    assert module_config(settings, "events", CallingConfig).reservation_minutes == 15
    bad = load_settings(environ={"ORGA_CALLING__RESERVATION_MINUTES": "x"}, var_dir=str(tmp_path))
    with pytest.raises(SettingsError, match="ORGA_CALLING__RESERVATION_MINUTES"):
        module_config(bad, "calling", CallingConfig)


@pytest.fixture
def orga_overrides():
    return {"modules": ()}


async def test_live_server_page_in_chromium(live_server, browser_page, screenshot_dir):
    response = await browser_page.goto(live_server.url + "/p/auth/reset/" + "x" * 30)
    assert response.status == 200
    assert await browser_page.locator("input[type=password]").count() >= 1
    await browser_page.screenshot(path=str(screenshot_dir / "password-reset.png"))
