"""``python -m core`` runs the ``orga`` command."""

from core.cli import main

main()
