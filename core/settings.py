"""Deployment settings, read from ``ORGA_*`` environment variables and an optional ``orga.toml``.

Precedence: environment variable > ``orga.toml`` > default. A wrong value stops start-up with
one :class:`SettingsError` naming the setting (``ORGA_WORKER: ...``).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Literal, TypeVar
from zoneinfo import available_timezones

import msgspec

__all__ = [
    "RoleConfig",
    "Settings",
    "SettingsError",
    "load_settings",
    "module_config",
    "private_files",
]

ENV_PREFIX = "ORGA_"
_LIST_FIELDS = {"modules", "cors_origins"}


T = TypeVar("T", bound=msgspec.Struct)


class SettingsError(Exception):
    """A setting is missing or has a wrong value; the message names the setting."""


class RoleConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One ``[orga.roles.<name>]`` table: a built-in role's permissions changed, or an
    additional role (checked against the declared permissions by ``core.auth.roles``).

    Attributes:
        permissions: the role's complete list (replaces the defaults).
        add / remove: permissions added to / taken from the defaults (or ``permissions``).
        rank: an additional role's rank, 1 to 40 (admin 40, organizer 30, caller/viewer 10).
        label: an additional role's name on the console (default: the role's key).
    """

    permissions: tuple[str, ...] | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    rank: int | None = None
    label: str | None = None


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Everything a deployment configures. Field ``x`` is read from ``ORGA_X``."""

    env: Literal["development", "production", "test"] = "development"
    var_dir: str = "./var"
    database_url: str = ""
    modules: tuple[str, ...] | None = None
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    smtp_pool_size: int = 4
    smtp_rate_per_minute: int = 0
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_key_file: str | None = None
    mail_dir: str = ""
    mail_from: str = "orga <noreply@localhost>"
    locale: Literal["de", "en", "sv"] = "de"
    default_region: str = "DE"
    timezone: str = "Europe/Berlin"
    templates_dir: str | None = None
    worker: Literal["inline", "off"] = "inline"
    max_body_bytes: int = 2_000_000
    cors_origins: tuple[str, ...] = ()
    session_idle_minutes: int = 120
    session_absolute_hours: int = 24
    retention_months: int = 24
    pending_retention_days: int = 30
    former_member_retention_months: int = 120
    import_upload_hours: int = 24
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics: bool = False
    metrics_token: str | None = None
    cache: bool = True
    db_pool_size: int = 10
    db_busy_timeout_ms: int = 5000
    module_config: dict[str, dict[str, object]] = msgspec.field(default_factory=dict)
    roles: dict[str, RoleConfig] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.timezone not in available_timezones():
            raise SettingsError(f"ORGA_TIMEZONE: unknown time zone {self.timezone!r}")
        if self.db_pool_size < 1:
            raise SettingsError("ORGA_DB_POOL_SIZE: must be at least 1")
        if self.db_busy_timeout_ms < 100:
            raise SettingsError("ORGA_DB_BUSY_TIMEOUT_MS: must be at least 100")
        if self.max_body_bytes < 1024:
            raise SettingsError("ORGA_MAX_BODY_BYTES: must be at least 1024")
        if self.import_upload_hours < 1:
            raise SettingsError("ORGA_IMPORT_UPLOAD_HOURS: must be at least 1")
        if self.session_idle_minutes < 1 or self.session_absolute_hours < 1:
            raise SettingsError(
                "ORGA_SESSION_IDLE_MINUTES / ORGA_SESSION_ABSOLUTE_HOURS: must be > 0"
            )
        if not self.public_url.startswith(("http://", "https://")):
            raise SettingsError("ORGA_PUBLIC_URL: must start with http:// or https://")
        if self.smtp_url and not self.smtp_url.startswith(("smtp://", "smtps://")):
            raise SettingsError("ORGA_SMTP_URL: must start with smtp:// or smtps://")
        if self.smtp_pool_size < 1 or self.smtp_rate_per_minute < 0:
            raise SettingsError("ORGA_SMTP_POOL_SIZE / ORGA_SMTP_RATE_PER_MINUTE: out of range")
        dkim = (self.dkim_selector, self.dkim_domain, self.dkim_key_file)
        if any(dkim) and not all(dkim):
            raise SettingsError(
                "ORGA_DKIM_KEY_FILE: DKIM needs ORGA_DKIM_SELECTOR, ORGA_DKIM_DOMAIN and "
                "ORGA_DKIM_KEY_FILE together"
            )
        if self.database_url and not self.database_url.startswith(
            ("sqlite:///", "postgresql://", "postgres://")
        ):
            raise SettingsError(
                "ORGA_DATABASE_URL: expected sqlite:///path or postgresql://user:pass@host:port/db"
            )

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an embedded SQLite file."""
        return self.database_url.startswith("sqlite:///")


def private_files() -> None:
    """Make every file this process creates 0600 and every folder 0700, whatever the umask it
    was started with: the database and its WAL, uploads, the mail folder, backups and the
    secret key hold personal data. Called where every orga process starts (``create_app`` and
    the ``orga`` command), before anything is written; child processes (``pg_dump``) inherit
    it."""
    os.umask(os.umask(0o077) | 0o077)


def _field_env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from exc
    return data.get("orga", data)  # either a top-level table [orga] or plain keys


def _ensure_secret_key(raw: dict[str, object]) -> None:
    if raw.get("secret_key"):
        if len(str(raw["secret_key"])) < 32:
            raise SettingsError("ORGA_SECRET_KEY: must be at least 32 characters")
        return
    if raw.get("env") == "production":
        raise SettingsError("ORGA_SECRET_KEY: must be set in production")
    key_file = Path(str(raw["var_dir"])) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    raw["secret_key"] = key_file.read_text().strip()


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Build :class:`Settings` from ``orga.toml``, ``ORGA_*`` variables and keyword overrides.

    Args:
        environ: the environment to read (default: ``os.environ``).
        **overrides: values that win over everything else (used by tests and the CLI).

    Raises:
        SettingsError: naming the first setting that is wrong.
    """
    environ = dict(os.environ if environ is None else environ)
    raw: dict[str, object] = {}
    config_path = Path(environ.get("ORGA_CONFIG", "orga.toml"))
    if config_path.exists():
        raw.update(_read_toml(config_path))
    for field in Settings.__struct_fields__:
        value = environ.get(_field_env_name(field))
        if value is None:
            continue
        raw[field] = _split_list(value) if field in _LIST_FIELDS else value
    _collect_module_config(raw, environ)
    raw.update(overrides)
    _check_roles(raw.get("roles", {}))
    raw.setdefault("var_dir", "./var")
    var_dir = str(raw["var_dir"])
    raw.setdefault("database_url", f"sqlite:///{var_dir}/orga.sqlite3")
    if not raw.get("mail_dir"):
        raw["mail_dir"] = f"{var_dir}/mail"
    if not raw.get("smtp_url"):
        raw["smtp_url"] = None
    _ensure_secret_key(raw)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc)) from exc


def _check_roles(roles: object) -> None:
    """Each ``[orga.roles.<name>]`` table read on its own, so a mistake names its key
    (``orga.roles.organizer.permissions: Expected `array | null`, got `str```)."""
    if not isinstance(roles, dict):
        raise SettingsError("orga.roles: expected tables [orga.roles.<name>]")
    for role, table in roles.items():
        try:
            msgspec.convert(table, RoleConfig, strict=False)
        except msgspec.ValidationError as exc:
            text, _, path = str(exc).partition(" - at `$")
            key = path.rstrip("`")
            raise SettingsError(f"orga.roles.{role}{key}: {text}") from exc


def _collect_module_config(raw: dict[str, object], environ: dict[str, str]) -> None:
    """Move ``[orga.<module>]`` tables and ``ORGA_<MODULE>__<KEY>`` variables to module_config."""
    config: dict[str, dict[str, object]] = {}
    core_tables = ("module_config", "roles")
    for key in [k for k, v in raw.items() if isinstance(v, dict) and k not in core_tables]:
        config[key] = dict(raw.pop(key))  # type: ignore[arg-type]
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and "__" in name:
            module, _, key = name[len(ENV_PREFIX) :].partition("__")
            config.setdefault(module.lower(), {})[key.lower()] = value
    if config:
        raw["module_config"] = config


def module_config(settings: Settings, module: str, schema: type[T]) -> T:
    """A module's own settings: ``[orga.<module>]`` in orga.toml or ``ORGA_<MODULE>__<KEY>``.

    Args:
        settings: the deployment settings.
        module: the module name (``calling``).
        schema: a ``msgspec.Struct`` whose fields have defaults.

    Raises:
        SettingsError: naming the variable whose value is wrong.
    """
    raw = settings.module_config.get(module, {})
    try:
        return msgspec.convert(raw, schema, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        text, _, path = message.partition(" - at `$.")
        key = path.rstrip("`").split("[")[0].split(".")[0]
        name = f"{ENV_PREFIX}{module.upper()}__{key.upper()}" if key else module
        raise SettingsError(f"{name}: {text}") from exc


def _explain(exc: msgspec.ValidationError) -> str:
    """Turn msgspec's ``... - at `$.worker``` into ``ORGA_WORKER: ...``."""
    message = str(exc)
    if " - at `$." in message:
        text, _, path = message.partition(" - at `$.")
        field = path.rstrip("`").split("[")[0].split(".")[0]
        return f"{_field_env_name(field)}: {text}"
    return message
