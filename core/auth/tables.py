"""Tables of users, role assignments, tokens, password resets and login throttling."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.orgs.tables import OrgUnit
from core.tables import Stamped

__all__ = ["AuthToken", "LoginAttempt", "PasswordReset", "RoleAssignment", "User"]


class User(Stamped, Table, tablename="orga_user"):
    """Someone who logs in. ``person_id`` optionally links the user to a person record."""

    email = Varchar(length=320, unique=True)
    display_name = Varchar(length=200)
    password_hash = Varchar(length=200, secret=True)
    active = Boolean(default=True)
    person_id = Integer(null=True, default=None)


class RoleAssignment(Stamped, Table, tablename="role_assignment"):
    """User ``user`` holds ``role`` on ``org`` and its whole subtree."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, db_column_name="user_id")
    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    role = Varchar(length=50)


class AuthToken(Stamped, Table, tablename="auth_token"):
    """A login session or an integration API token; only the SHA-256 of the secret is stored.

    API tokens (``kind='api'``) are scoped to one org unit and a set of permissions.
    """

    user = ForeignKey(User, on_delete=OnDelete.cascade, db_column_name="user_id")
    token_hash = Varchar(length=64, unique=True, secret=True)
    kind = Varchar(length=10, default="session")
    name = Varchar(length=200, null=True, default=None)
    org = ForeignKey(OrgUnit, null=True, on_delete=OnDelete.cascade, db_column_name="org_id")
    permissions = JSON(null=True, default=None)
    last_used_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Varchar(length=300, null=True, default=None)


class PasswordReset(Stamped, Table, tablename="password_reset"):
    """A single-use password reset link (hash of its secret)."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, db_column_name="user_id")
    token_hash = Varchar(length=64, unique=True, secret=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class LoginAttempt(Table, tablename="login_attempt"):
    """A failed login, keyed by a hash of the account or the client address (for throttling)."""

    key = Varchar(length=64, index=True)
    at = Timestamptz()
