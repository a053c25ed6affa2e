"""orga's own tests use the fixtures that core ships to module authors (core.testing)."""
