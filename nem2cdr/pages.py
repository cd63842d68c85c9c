"""Pages of a usage response: ``meta``, ``links`` and the envelope around encoded records."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import BinaryIO
from urllib.parse import urlencode

from nem2cdr.cdr_model import ENCODER, LinksPaginated, MetaPaginated

MAX_PAGE_SIZE = 1000  # the standard's limit
DEFAULT_PAGE_SIZE = 25


class PageError(ValueError):
    """A page that does not exist, or a page size the standard does not allow."""


def page_count(total: int, page_size: int) -> int:
    return math.ceil(total / page_size)


def check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise PageError(f"page size {page_size} is not between 1 and {MAX_PAGE_SIZE}")


def check_page(page: int, page_size: int, total: int) -> int:
    """The number of pages; raises ``PageError`` for a page outside them."""
    check_page_size(page_size)
    pages = page_count(total, page_size)
    if page < 1 or page > max(pages, 1):
        raise PageError(f"page {page} is out of range: there are {pages} pages")
    return pages


def links(
    base_url: str, query: dict[str, str], page: int | None, page_size: int | None, pages: int
) -> LinksPaginated:
    """``self`` always; ``first``/``prev`` unless on page 1; ``next``/``last`` unless last."""

    def url(number: int | None) -> str:
        params = dict(query)
        if number is not None and page_size is not None:
            params["page"] = str(number)
            params["page-size"] = str(page_size)
        return f"{base_url}?{urlencode(params)}" if params else base_url

    result = LinksPaginated(self=url(page))
    if page is None or page_size is None:
        return result
    if page > 1:
        result.first, result.prev = url(1), url(page - 1)
    if page < pages:
        result.next, result.last = url(page + 1), url(pages)
    return result


def write_page(
    out: BinaryIO,
    bodies: Iterable[bytes],
    base_url: str,
    query: dict[str, str],
    number: int,
    page_size: int,
    total: int,
) -> None:
    """Page ``number`` of a paged response holding ``total`` records: its already encoded
    ``bodies`` with the ``meta`` and ``links`` the standard asks for. ``convert`` and ``serve``
    both write every page through here, so their bytes cannot differ."""
    pages = page_count(total, page_size)
    meta = MetaPaginated(total_records=total, total_pages=pages)
    write_response(out, bodies, links(base_url, query, number, page_size, pages), meta)


def write_response(
    out: BinaryIO, bodies: Iterable[bytes], page_links: LinksPaginated, meta: MetaPaginated
) -> None:
    """An ``EnergyUsageListResponse`` around already encoded records, streamed."""
    out.write(b'{"data":{"reads":[')
    first = True
    for body in bodies:
        if not first:
            out.write(b",")
        out.write(body)
        first = False
    out.write(b']},"links":' + ENCODER.encode(page_links))
    out.write(b',"meta":' + ENCODER.encode(meta) + b"}\n")
