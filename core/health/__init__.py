"""Health endpoint: database reachable, migrations current, enabled modules."""
