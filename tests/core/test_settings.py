"""Settings from ORGA_* variables and orga.toml, and one clear message per wrong setting."""

from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings

KEY = "k" * 40


def test_toml_is_read_and_environment_wins(tmp_path):
    config = tmp_path / "orga.toml"
    config.write_text(
        '[orga]\nlocale = "sv"\nmodules = ["calling"]\npublic_url = "https://toml.example"\n'
    )
    settings = load_settings(
        environ={
            "ORGA_CONFIG": str(config),
            "ORGA_SECRET_KEY": KEY,
            "ORGA_PUBLIC_URL": "https://env.example",
            "ORGA_VAR_DIR": str(tmp_path),
        }
    )
    assert settings.locale == "sv"
    assert settings.modules == ("calling",)
    assert settings.public_url == "https://env.example"
    assert settings.database_url == f"sqlite:///{tmp_path}/orga.sqlite3"
    assert settings.mail_dir == f"{tmp_path}/mail"


def test_lists_and_numbers_from_environment(tmp_path):
    settings = load_settings(
        environ={
            "ORGA_MODULES": "calling, events",
            "ORGA_SECRET_KEY": KEY,
            "ORGA_MAX_BODY_BYTES": "5000",
            "ORGA_VAR_DIR": str(tmp_path),
            "ORGA_CORS_ORIGINS": "https://a.example,https://b.example",
        }
    )
    assert settings.modules == ("calling", "events")
    assert settings.max_body_bytes == 5000
    assert settings.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ORGA_WORKER", "sometimes", "ORGA_WORKER"),
        ("ORGA_LOCALE", "fr", "ORGA_LOCALE"),
        ("ORGA_MAX_BODY_BYTES", "lots", "ORGA_MAX_BODY_BYTES"),
        ("ORGA_SMTP_URL", "http://mail", "ORGA_SMTP_URL"),
        ("ORGA_DATABASE_URL", "mysql://x", "ORGA_DATABASE_URL"),
        ("ORGA_PUBLIC_URL", "example.org", "ORGA_PUBLIC_URL"),
        ("ORGA_DKIM_SELECTOR", "s1", "ORGA_DKIM"),
        ("ORGA_SECRET_KEY", "short", "ORGA_SECRET_KEY"),
        ("ORGA_DB_BUSY_TIMEOUT_MS", "0", "ORGA_DB_BUSY_TIMEOUT_MS"),
    ],
)
def test_wrong_values_name_the_setting(tmp_path, variable, value, named):
    environ = {"ORGA_SECRET_KEY": KEY, "ORGA_VAR_DIR": str(tmp_path), variable: value}
    with pytest.raises(SettingsError) as info:
        load_settings(environ=environ)
    assert str(info.value).startswith(named)


def test_broken_toml_is_reported(tmp_path):
    config = tmp_path / "orga.toml"
    config.write_text("locale = \n")
    with pytest.raises(SettingsError, match=r"orga\.toml"):
        load_settings(environ={"ORGA_CONFIG": str(config), "ORGA_SECRET_KEY": KEY})
