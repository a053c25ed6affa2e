"""The API documentation page at ``/schema``: Swagger UI, served from our own origin.

The Swagger UI files come from the ``swagger-ui-bundle-v2`` package (pinned in
pyproject.toml; its files are those of the npm package ``swagger-ui-dist`` of the same
version), so the page works offline and loads no third-party code. The page has no inline
script or style: ``core/static/swagger-init.js`` starts Swagger UI, and the page's
Content-Security-Policy (:data:`core.http.DOCS_CSP`) allows scripts and styles from
``'self'`` only.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

from core.http import STATIC_DIR
from core.problems import not_found

__all__ = ["SwaggerUI"]

_ASSET_ROUTE = "orga-docs-asset"
_BUNDLE = Path(str(swagger_ui_path))
_ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_BUNDLE / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_BUNDLE / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (_BUNDLE / "favicon-32x32.png", "image/png"),
    "swagger-init.js": (STATIC_DIR / "swagger-init.js", "text/javascript"),
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{favicon}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<noscript><p>The interactive documentation needs JavaScript. The OpenAPI document itself is
at <a href="{spec}">{spec}</a>.</p></noscript>
<div id="swagger-ui" data-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


@get("/assets/{file:str}", name=_ASSET_ROUTE, include_in_schema=False, sync_to_thread=False)
def docs_asset(file: str) -> File:
    """One of the documentation page's files (a fixed list; anything else is a 404)."""
    if file not in _ASSETS:
        raise not_found("file")
    path, media_type = _ASSETS[file]
    return File(
        path,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=3600"},
    )


class SwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI at the schema root (``/schema``), its files under ``/schema/assets/``."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        """The HTML page; Swagger UI loads the document from ``/schema/openapi.json``."""

        def asset(file: str) -> str:
            return escape(request.app.route_reverse(_ASSET_ROUTE, file=file))

        return _PAGE.format(
            title=escape(openapi_schema["info"]["title"]),
            spec=escape(self.get_openapi_json_route(request)),
            css=asset("swagger-ui.css"),
            favicon=asset("favicon-32x32.png"),
            bundle=asset("swagger-ui-bundle.js"),
            init=asset("swagger-init.js"),
        ).encode()

    def receive_router(self, router: Router) -> None:
        """Serve the page's files beside it."""
        router.register(docs_asset)
