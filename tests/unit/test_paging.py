"""The framework's paging helper: next-link and next-key styles, loops and
endless listings refused, foreign hosts refused."""

import pytest

from l10n_nl_bankkoppeling.tools import paging, provider


def _pages(chain):
    """fetch() over ``chain``: cursor -> (page, next cursor)."""
    calls = []

    def fetch(cursor, page_number):
        calls.append((cursor, page_number))
        return chain[cursor]

    return fetch, calls


def test_next_key_pages_come_in_order_and_stop_at_the_last():
    fetch, calls = _pages({None: ("p1", "k2"), "k2": ("p2", "k3"), "k3": ("p3", None)})
    assert list(paging.follow(fetch, bank="ABN AMRO", what="nextPageKey")) == ["p1", "p2", "p3"]
    assert calls == [(None, 1), ("k2", 2), ("k3", 3)]


def test_a_repeated_cursor_is_refused_after_yielding_what_came():
    fetch, _ = _pages({None: ("p1", "k2"), "k2": ("p2", "k2")})
    pages = paging.follow(fetch, bank="ABN AMRO", what="nextPageKey")
    assert (next(pages), next(pages)) == ("p1", "p2")
    with pytest.raises(provider.ProtocolError, match="ABN AMRO's nextPageKey after page 2 repeats"):
        next(pages)


def test_a_next_link_back_to_the_first_page_is_refused():
    fetch, _ = _pages({"/a": ("p1", "/b"), "/b": ("p2", "/a")})
    with pytest.raises(provider.ProtocolError, match="after page 2 repeats"):
        list(paging.follow(fetch, "/a", bank="ING", what="next link"))


def test_endless_fresh_cursors_stop_at_the_page_limit():
    calls = []

    def fetch(cursor, page_number):
        calls.append(page_number)
        return page_number, f"k{page_number}"

    with pytest.raises(provider.ProtocolError, match="stopped after 5"):
        list(paging.follow(fetch, bank="X", what="key", max_pages=5))
    assert calls == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ({"_links": {"next": {"href": "/v3/x?page=2"}}}, "/v3/x?page=2"),
        ({"_links": {"next": " https://h/v3/x?p=2 "}}, "https://h/v3/x?p=2"),
        ({"_links": {"next": {"href": ""}}}, None),
        ({"_links": {"self": {"href": "/v3/x"}}}, None),
        ({"_links": None}, None),
        ({}, None),
        (None, None),
        ({"_links": {"next": {"href": 7}}}, None),
    ],
)
def test_next_href(container, expected):
    assert paging.next_href(container) == expected


def test_relative_and_absolute_next_links_resolve_on_the_bank_host():
    base = "https://api.bank.example"
    assert paging.same_host_url(base, "/v3/x?p=2", bank="B", page_number=1) == (
        "https://api.bank.example/v3/x?p=2"
    )
    assert paging.same_host_url(base, "https://api.bank.example/v3/y", bank="B", page_number=1) == (
        "https://api.bank.example/v3/y"
    )


@pytest.mark.parametrize("href", ["https://evil.example/v3/x", "http://api.bank.example/v3/x",
                                  "//evil.example/v3/x"])
def test_next_link_to_another_host_is_refused(href):
    with pytest.raises(provider.ProtocolError, match="B's next link after page 3 points to another host"):
        paging.same_host_url("https://api.bank.example", href, bank="B", page_number=3)
