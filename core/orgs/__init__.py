"""Org units: the tree every person, role and module setting hangs on."""
