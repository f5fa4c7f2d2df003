"""What a shop's page loads: `/widget.js`, its config, and the demo shop at `/demo`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, jsonify, render_template, request

from .. import i18n, widget_build
from ..services import widget_config
from .errors import error_response

bp = Blueprint("widget", __name__)

SHORT_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
# The config carries live facts (open now, an agent free): a page view may reuse it briefly.
CONFIG_CACHE = "public, max-age=10"
MAX_KEY = 64
# The demo pages prove the widget needs nothing more than this from a shop's CSP.
DEMO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@bp.get("/widget.js")
def script() -> Response:
    built = widget_build.build()
    versioned = request.args.get("v") == built.version
    if request.if_none_match.contains_weak(built.etag):
        response = Response(status=304)
    else:
        gzipped = "gzip" in request.accept_encodings
        response = Response(
            built.gzipped if gzipped else built.minified,
            mimetype="text/javascript",
        )
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(built.etag)
    response.headers["Cache-Control"] = IMMUTABLE_CACHE if versioned else SHORT_CACHE
    response.vary.add("Accept-Encoding")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/api/v1/widgets/<key>")
def config(key: str) -> Response:
    raw = request.args.get("lang", "")
    languages = i18n.parse_language_list(raw) if raw else []
    if languages is None:
        return error_response(
            400, "invalid_lang", "lang must be language tags such as 'et-EE,en'.", "lang"
        )
    found = None
    if len(key) <= MAX_KEY and "\x00" not in key:
        found = widget_config.config_for(key, languages)
    if found is None:
        return error_response(404, "unknown_widget", "No widget has this key; check data-widget.")
    response = jsonify(found)
    response.headers["Cache-Control"] = CONFIG_CACHE
    return response


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    price: str
    color: str
    blurb: str


PRODUCTS = (
    Product("blue-kettle", "Blue Kettle", "49 €", "#2f6fdf", "1.7 l, boils in three minutes."),
    Product("oak-chair", "Oak Chair", "189 €", "#a8743b", "Solid oak, oiled, stacks by four."),
    Product("linen-lamp", "Linen Lamp", "79 €", "#d9b44a", "A warm light with a linen shade."),
    Product("wool-blanket", "Wool Blanket", "99 €", "#b3403a", "Estonian wool, 130 by 180 cm."),
)


def _demo(template: str, **context: object) -> Response:
    # ?lang=et shows the widget in another language: it follows the page's <html lang>.
    lang = request.args.get("lang", "en")
    lang = lang if lang in i18n.LANGUAGES else "en"
    html = render_template(f"demo/{template}", products=PRODUCTS, lang=lang, **context)
    response = Response(html)
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response


@bp.get("/demo")
@bp.get("/demo/")
def demo_index() -> Response:
    return _demo("index.html")


@bp.get("/demo/product/<slug>")
def demo_product(slug: str) -> Response:
    product = next((p for p in PRODUCTS if p.slug == slug), None)
    if product is None:
        abort(404, description="No such product in the demo shop.")
    return _demo("product.html", product=product)


@bp.get("/demo/privacy")
def demo_privacy() -> Response:
    return _demo("privacy.html")
