"""Paging through a bank's answers, bank-neutral.

Plain Python (no Odoo). Two styles exist among the Dutch banks:

* next link (ING, Rabobank, Berlin Group): ``_links.next`` (an object with
  ``href`` or a bare string), relative or absolute;
* next key (ABN AMRO): an opaque ``nextPageKey`` sent back with the query.

:func:`follow` walks either style and refuses a bank that sends the same
page twice (a loop would fetch forever and double nothing only by luck) or
more pages than :data:`MAX_PAGES`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from . import provider

#: Most pages one listing may have. No bank documents a limit; at the page
#: sizes they use (50-500 rows) this is far beyond two years of a busy
#: account, so reaching it means the bank is looping with fresh cursors.
MAX_PAGES = 2000

Page = TypeVar("Page")
Cursor = TypeVar("Cursor", bound=Hashable)


def follow(
    fetch: Callable[[Cursor | None, int], tuple[Page, Cursor | None]],
    first: Cursor | None = None,
    *,
    bank: str,
    what: str,
    max_pages: int = MAX_PAGES,
) -> Iterator[Page]:
    """Yield the pages ``fetch(cursor, page_number)`` returns, each with the
    cursor of the next one (``None``: last page), starting at ``first``."""
    seen = {first}
    cursor = first
    page_number = 0
    while True:
        page_number += 1
        page, cursor = fetch(cursor, page_number)
        yield page
        if cursor is None:
            return
        if cursor in seen:
            raise provider.ProtocolError(
                f"{bank}'s {what} after page {page_number} repeats an earlier page"
            )
        if page_number >= max_pages:
            raise provider.ProtocolError(
                f"{bank} keeps sending pages: stopped after {max_pages}"
            )
        seen.add(cursor)


def next_href(container: Any) -> str | None:
    """``container["_links"]["next"]`` as a string: its ``href`` or the bare
    string; None when absent or empty."""
    links = container.get("_links") if isinstance(container, Mapping) else None
    next_link = links.get("next") if isinstance(links, Mapping) else None
    href = next_link.get("href") if isinstance(next_link, Mapping) else next_link
    if not isinstance(href, str):
        return None
    return href.strip() or None


def same_host_url(base_url: str, href: str, *, bank: str, page_number: int) -> str:
    """``href`` made absolute against ``base_url``; refused when it points to
    another scheme or host (following it would send the customer's token
    there)."""
    url = urljoin(base_url.rstrip("/") + "/", href)
    here, there = urlsplit(base_url), urlsplit(url)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        raise provider.ProtocolError(
            f"{bank}'s next link after page {page_number} points to another host"
        )
    return url
