"""Built-in orga modules; each is registered under the ``orga.plugins`` entry-point group."""
