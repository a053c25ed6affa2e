"""Users, login sessions, API tokens, roles and permission checks."""
