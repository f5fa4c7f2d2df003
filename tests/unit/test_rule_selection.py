"""`rule_for`: a widget's page routes pick the rule, first match by position, else the default."""

from __future__ import annotations

import pytest

from callback.routing.selection import Route, page_path, rule_for

DEFAULT = 1
ROUTES = [
    Route("/product/*", 10, position=2),
    Route("/product/gift-*", 20, position=1),
    Route("*/sale", 30, position=3),
    Route("/checkout", 40, position=4),
]


@pytest.mark.parametrize(
    ("page_url", "rule"),
    [
        ("https://shop.example/product/kettle", 10),
        ("https://shop.example/product/gift-card?utm_source=x#top", 20),  # position 1 wins
        ("https://shop.example/product/a/b", 10),  # * spans slashes
        ("https://shop.example/women/shoes/sale", 30),
        ("https://shop.example/checkout", 40),
        ("https://shop.example/checkout/step-2", DEFAULT),  # exact pattern, no prefix match
        ("https://shop.example/Product/kettle", DEFAULT),  # paths are case-sensitive
        ("https://shop.example/", DEFAULT),
        ("https://shop.example", DEFAULT),
        ("/product/relative", 10),
        ("", DEFAULT),
        (None, DEFAULT),
        ("http://[broken", DEFAULT),
    ],
)
def test_rule_for(page_url: str | None, rule: int) -> None:
    assert rule_for(ROUTES, DEFAULT, page_url) == rule


def test_no_routes_means_the_default() -> None:
    assert rule_for([], DEFAULT, "https://shop.example/product/kettle") == DEFAULT


def test_order_is_by_position_not_by_list_order() -> None:
    routes = [Route("/p/*", 2, position=5), Route("/p/*", 3, position=4)]
    assert rule_for(routes, DEFAULT, "/p/x") == 3


def test_page_path() -> None:
    assert page_path("https://shop.example/a/b?c=d#e") == "/a/b"
    assert page_path("https://shop.example") == "/"
    assert page_path("  /x  ") == "/x"
    assert page_path(None) is None
