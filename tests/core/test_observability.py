"""Request ids, structured logs, Prometheus metrics and the live/ready probes."""

from __future__ import annotations

import io
import json
import logging
import secrets

import pytest

from core.observability import configure_logging
from core.settings import load_settings
from core.signing import sign


async def test_request_id_is_echoed_or_made(client):
    given = await client.get("/api/health/live", headers={"X-Request-ID": "proxy-123"})
    assert given.headers["x-request-id"] == "proxy-123"
    made = await client.get("/api/health/live", headers={"X-Request-ID": "bad id\n"})
    assert len(made.headers["x-request-id"]) == 16 and made.headers["x-request-id"] != "bad id"


async def test_json_access_log_line_carries_the_request_id(client, tmp_path):
    stream = io.StringIO()
    settings = load_settings(
        environ={}, var_dir=str(tmp_path), env="production", secret_key="k" * 40, log_format="json"
    )
    handler = configure_logging(settings, stream)
    try:
        await client.get("/api/health/live", headers={"X-Request-ID": "trace-me"})
    finally:
        logging.getLogger("orga").removeHandler(handler)
        logging.getLogger("orga").propagate = True
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [e for e in lines if e["logger"] == "orga.access"]
    assert access and access[-1]["request_id"] == "trace-me"
    assert access[-1]["status"] == 200 and access[-1]["path"] == "/api/health/live"
    assert "duration_ms" in access[-1]


async def test_ready_and_live(client):
    assert (await client.get("/api/health/live")).json() == {"status": "ok"}
    assert (await client.get("/api/health/ready")).json() == {"status": "ok"}


async def test_metrics_are_off_by_default(client):
    assert (await client.get("/metrics")).status_code == 404


class TestMetricsOn:
    @pytest.fixture
    def orga_overrides(self):
        return {"metrics": True, "metrics_token": "m" * 32}

    async def test_metrics_need_the_token_and_show_latency_queue_and_mail(self, client):
        from core.jobs.services import enqueue

        await enqueue("mail.send", {"to_email": "x@example.org"})
        await client.get("/api/health/live")
        assert (await client.get("/metrics")).status_code == 401
        response = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        assert response.status_code == 200
        text = response.text
        assert 'orga_jobs{kind="mail.send",status="queued"} 1.0' in text
        assert "orga_request_duration_seconds" in text
        assert "orga_mail_sent_total" in text


async def test_access_line_goes_through_logging_in_text_mode(client, caplog):
    with caplog.at_level(logging.INFO, logger="orga.access"):
        await client.get("/api/health/live", headers={"X-Request-ID": "text-mode"})
    access = [r for r in caplog.records if r.name == "orga.access"]
    assert access and access[-1].getMessage() == "GET /api/health/live 200"
    assert access[-1].request_id == "text-mode" and access[-1].duration_ms >= 0


def test_json_lines_keep_non_ascii_and_encode_any_extra(tmp_path):
    stream = io.StringIO()
    settings = load_settings(
        environ={}, var_dir=str(tmp_path), env="production", secret_key="k" * 40, log_format="json"
    )
    handler = configure_logging(settings, stream)
    try:
        logging.getLogger("orga.test").warning(
            "Grüße %s", "aus Köln", extra={"odd": ValueError("boom")}
        )
    finally:
        logging.getLogger("orga").removeHandler(handler)
        logging.getLogger("orga").propagate = True
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "Grüße aus Köln" and "Grüße" in stream.getvalue()
    assert entry["level"] == "WARNING" and entry["odd"] == "boom"


async def test_a_removed_json_handler_gets_no_more_access_lines(client, tmp_path, caplog):
    stream = io.StringIO()
    settings = load_settings(
        environ={}, var_dir=str(tmp_path), env="production", secret_key="k" * 40, log_format="json"
    )
    handler = configure_logging(settings, stream)
    logging.getLogger("orga").removeHandler(handler)
    logging.getLogger("orga").propagate = True
    with caplog.at_level(logging.INFO, logger="orga.access"):
        await client.get("/api/health/live")
    assert stream.getvalue() == ""
    assert any(r.name == "orga.access" for r in caplog.records)


def secret_requests() -> tuple[list[tuple[str, str]], list[str]]:
    """Requests whose paths or queries carry link secrets (reset, confirm, cancel, unsubscribe,
    click, personal page), the secrets, and the redacted paths the log must show."""
    reset = secrets.token_urlsafe(32)  # as core.auth.reset makes them
    signed = [sign(purpose, [7, 9], secret="s" * 40) for purpose in ("a", "b", "c", "d", "e")]
    requests = [
        ("GET", f"/p/auth/reset/{reset}"),
        ("POST", f"/p/events/1/2/cancel/{signed[0]}"),
        ("GET", f"/p/events/1/2/confirm/{signed[1]}"),
        ("POST", f"/p/mailings/unsubscribe/{signed[2]}"),
        ("GET", f"/p/linksaktiv/confirm/{signed[3]}"),
        ("GET", f"/p/linksaktiv/me?t={signed[4]}&done=saved"),
        ("GET", f"/api/health/live?token={reset}"),
    ]
    return requests, [reset, *signed]


REDACTED = [
    "/p/auth/reset/***",
    "/p/events/1/2/cancel/***",
    "/p/events/1/2/confirm/***",
    "/p/mailings/unsubscribe/***",
    "/p/linksaktiv/confirm/***",
    "/p/linksaktiv/me",
    "/api/health/live",
]


def assert_no_secret(text: str, tokens: list[str]) -> None:
    for token in tokens:
        for part in token.split("."):
            assert part not in text


async def test_json_access_log_redacts_link_secrets(client, tmp_path):
    stream = io.StringIO()
    settings = load_settings(
        environ={}, var_dir=str(tmp_path), env="production", secret_key="k" * 40, log_format="json"
    )
    requests, tokens = secret_requests()
    handler = configure_logging(settings, stream)
    try:
        for method, url in requests:
            await client.request(method, url)
        await client.get("/p/events/1/feed.ics")
    finally:
        logging.getLogger("orga").removeHandler(handler)
        logging.getLogger("orga").propagate = True
    assert_no_secret(stream.getvalue(), tokens)
    access = [json.loads(line) for line in stream.getvalue().splitlines()]
    paths = [e["path"] for e in access if e["logger"] == "orga.access"]
    assert paths == [*REDACTED, "/p/events/1/feed.ics"]  # ordinary dotted names stay


async def test_text_access_log_redacts_link_secrets(client, caplog):
    requests, tokens = secret_requests()
    with caplog.at_level(logging.INFO, logger="orga.access"):
        for method, url in requests:
            await client.request(method, url)
    access = [r for r in caplog.records if r.name == "orga.access"]
    assert [r.path for r in access] == REDACTED
    orga_lines = [r for r in caplog.records if r.name.startswith("orga")]  # not httpx's own
    assert_no_secret("".join(r.getMessage() + str(vars(r)) for r in orga_lines), tokens)
