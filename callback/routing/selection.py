"""Which rule a callback uses: the widget's page routes first, then the widget's own rule.

Pure. A route's pattern is a glob matched against the path of the page URL (no scheme, host,
query or fragment): `/product/*` matches `/product/kettle` and `/product/a/b`, `*/sale` any
path ending in /sale, `/checkout` only that page. Matching is case-sensitive, as URL paths are.
Routes are tried in position order and the first match wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

__all__ = ["Route", "page_path", "rule_for"]


@dataclass(frozen=True, slots=True)
class Route:
    url_pattern: str
    rule_id: int
    position: int


def page_path(page_url: str | None) -> str | None:
    """The path of a page URL ("https://shop/p/x?y=1" -> "/p/x"); None when there is none."""
    if not page_url:
        return None
    try:
        path = urlsplit(page_url.strip()).path
    except ValueError:  # e.g. "http://[" — a malformed URL from the page matches no route
        return None
    return path or "/"


def rule_for(routes: Iterable[Route], default_rule_id: int, page_url: str | None) -> int:
    """The rule of the first route (by position) whose pattern matches the page's path."""
    path = page_path(page_url)
    if path is None:
        return default_rule_id
    for route in sorted(routes, key=lambda r: r.position):
        if fnmatchcase(path, route.url_pattern):
            return route.rule_id
    return default_rule_id
