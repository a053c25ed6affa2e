"""The web console (``/app``): server-rendered pages on the same services as the JSON API.

Modules import the contract types from :mod:`core` (``ConsolePages``, ``MenuItem``, ``Card``)
and the page helpers from :mod:`core.api` (``render_console``, ``see_other``, ``translate``).
"""
