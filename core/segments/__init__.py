"""Segments: saved "smart searches" over people, compiled to one SQL query."""
