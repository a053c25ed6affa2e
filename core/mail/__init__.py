"""Mail: render a template for a recipient and locale, build MIME, enqueue, deliver."""
