"""``nem2cdr serve``: the CDR electricity usage endpoints, answered from a store.

Five routes, as the official OpenAPI files say (the data holder's ``cds_energy.json``, shipped
in ``nem2cdr/schema``, and the secondary holder's ``cds_energy_sdh.json``, same release): GET
one service point, GET all and POST a list of ids for a data holder; GET one and POST a list
for AEMO as secondary holder, whose ``servicePointId`` is the NMI. Each page is the bytes
``nem2cdr convert`` writes for the same records and options: the records are converted by the
converter's functions and the page is written by ``pages.write_page``, as convert's are.

Requests are answered on the event loop, without threads: a page is a few SQLite reads and a
conversion, and ``--workers`` adds processes for more cores (``listeners``).
"""

from __future__ import annotations

import hmac
import io
import os
import re
import socket
import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nem2cdr.cdr_model import ENCODER, IntervalReadsMode
from nem2cdr.conversion import link_query
from nem2cdr.encodings import Coding, Encoder, Levels, PageCache, choose
from nem2cdr.listeners import family, supervise
from nem2cdr.model import IntervalDay, Record
from nem2cdr.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageError, check_page, write_page
from nem2cdr.store import Selection, Store, StoreError
from nem2cdr.usage import (
    DEFAULT_NAMESPACE,
    ConvertOptions,
    basic_record,
    interval_record,
    service_point_id,
)

PREFIX = "/cds-au/v1"
HOLDER = "/energy/electricity/servicepoints"
SECONDARY = "/secondary/energy/electricity/servicepoints"
VERSION = 1  # the usage endpoints' x-version, the only one served
MAX_BODY = 4 << 20  # bytes of a POST body: room for about 100,000 ids
_ENVIRONMENT = "NEM2CDR_SERVE_OPTIONS"  # how the options reach the worker processes
_MODES: tuple[IntervalReadsMode, ...] = ("NONE", "MIN_30", "FULL")
QUERY_PARAMETERS = ("interval-reads", "oldest-date", "newest-date", "page", "page-size")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[0-9]{1,18}")  # int64 holds it: SQLite's OFFSET and LIMIT do too
_JSON = "application/json"
_TOO_BIG = 10**18


class ServeOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What a server answers with; ``convert``'s id options shape every ``servicePointId``
    of the data holder's routes (its interval-reads, dates and base URL are the request's)."""

    store: str
    convert: ConvertOptions = msgspec.field(default_factory=ConvertOptions)
    today: date | None = None  # "today" for the default dates; None: the server's date
    token: str | None = None  # a static bearer token every request must carry
    levels: Levels = msgspec.field(default_factory=Levels)
    cache_bytes: int = 64 << 20  # the page cache's limit per process; 0: no cache


class _Problem(NamedTuple):
    code: str
    title: str
    detail: str


class ErrorV2(msgspec.Struct, frozen=True):
    code: str
    title: str
    detail: str


class ErrorList(msgspec.Struct, frozen=True):
    """The standard's ``ResponseErrorListV2`` (``PrimaryResponseErrorListV1`` is the same
    with an optional flag this server never sets)."""

    errors: list[ErrorV2]


_ALL = "urn:au-cds:error:cds-all:"
MISSING_HEADER = _Problem(f"{_ALL}Header/Missing", "Missing Required Header", "")
INVALID_VERSION = _Problem(f"{_ALL}Header/InvalidVersion", "Invalid Version", "")
UNSUPPORTED_VERSION = _Problem(f"{_ALL}Header/UnsupportedVersion", "Unsupported Version", "")
INVALID_FIELD = _Problem(f"{_ALL}Field/Invalid", "Invalid Field", "")
MISSING_FIELD = _Problem(f"{_ALL}Field/Missing", "Missing Required Field", "")
INVALID_DATE = _Problem(f"{_ALL}Field/InvalidDateTime", "Invalid Date", "")
INVALID_PAGE_SIZE = _Problem(f"{_ALL}Field/InvalidPageSize", "Invalid Page Size", "")
INVALID_PAGE = _Problem(f"{_ALL}Field/InvalidPage", "Invalid Page", "")
INVALID_SERVICE_POINT = _Problem(
    "urn:au-cds:error:cds-energy:Authorisation/InvalidServicePoint", "Invalid Service Point", ""
)
UNAUTHORIZED = _Problem(f"{_ALL}Authorisation/Unauthorized", "Unauthorized", "")
NOT_FOUND = _Problem(f"{_ALL}Resource/NotFound", "Resource Not Found", "")
UNEXPECTED = _Problem(f"{_ALL}GeneralError/Unexpected", "Unexpected Error Encountered", "")


class Refused(Exception):
    """A request answered with an error list instead of a page."""

    def __init__(self, status: int, problems: list[_Problem]) -> None:
        super().__init__(status, problems)
        self.status = status
        self.problems = problems


def _refuse(status: int, problem: _Problem, detail: str) -> Refused:
    return Refused(status, [problem._replace(detail=detail)])


class _IdList(msgspec.Struct, rename="camel"):
    service_point_ids: list[str]


class _IdRequest(msgspec.Struct):
    """The standard's ``RequestServicePointIdListV1`` (``meta`` is allowed and ignored)."""

    data: _IdList


_DECODE_IDS = msgspec.json.Decoder(_IdRequest).decode


@dataclass(frozen=True)
class Endpoint:
    """One route: which service points it answers for, and whose ids it speaks."""

    path: str
    method: Literal["GET", "POST"]
    scope: Literal["one", "all", "listed"]
    secondary: bool  # AEMO's routes: servicePointId is the NMI; two more required headers


ENDPOINTS = (
    Endpoint(f"{PREFIX}{HOLDER}/{{servicePointId}}/usage", "GET", "one", False),
    Endpoint(f"{PREFIX}{HOLDER}/usage", "GET", "all", False),
    Endpoint(f"{PREFIX}{HOLDER}/usage", "POST", "listed", False),
    Endpoint(f"{PREFIX}{SECONDARY}/{{servicePointId}}/usage", "GET", "one", True),
    Endpoint(f"{PREFIX}{SECONDARY}/usage", "POST", "listed", True),
)


class Query(NamedTuple):
    """A usage request's parameters, checked, with the standard's defaults applied."""

    mode: IntervalReadsMode
    oldest: date
    newest: date
    page: int
    page_size: int


def parse_query(parameters: Iterable[tuple[str, str]], today: date) -> Query:
    """The query string's parameters; raises ``Refused`` (400) for one the standard refuses.
    Parameters it does not name are ignored; one it names given twice is refused."""
    given: dict[str, str] = {}
    for name, value in parameters:
        if name in QUERY_PARAMETERS:
            if name in given:
                raise _refuse(400, INVALID_FIELD, f"{name} is given more than once")
            given[name] = value
    mode = given.get("interval-reads", "NONE")
    if mode not in _MODES:
        raise _refuse(400, INVALID_FIELD, "interval-reads must be NONE, MIN_30 or FULL")
    newest = _date(given, "newest-date") or today
    oldest = _date(given, "oldest-date") or _two_years_before(newest)
    if oldest > newest:
        raise _refuse(400, INVALID_FIELD, f"oldest-date {oldest} is after newest-date {newest}")
    page = _whole_number(given, "page", 1)
    if page < 1:
        raise _refuse(400, INVALID_FIELD, "page must be at least 1")
    size = _whole_number(given, "page-size", DEFAULT_PAGE_SIZE)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _refuse(400, INVALID_PAGE_SIZE, f"page-size must be from 1 to {MAX_PAGE_SIZE}")
    return Query(mode, oldest, newest, page, size)


def _date(given: dict[str, str], name: str) -> date | None:
    text = given.get(name)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _refuse(400, INVALID_DATE, f"{name} is not a date (YYYY-MM-DD)") from None


def _two_years_before(day: date) -> date:
    """The standard's default oldest-date: newest-date minus 24 months (29 February: 28th;
    the calendar's first day when there is no such date, before year 3)."""
    if day.year < 3:
        return date.min
    try:
        return day.replace(year=day.year - 2)
    except ValueError:
        return day.replace(year=day.year - 2, day=28)


def _whole_number(given: dict[str, str], name: str, default: int) -> int:
    text = given.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit():
        raise _refuse(400, INVALID_FIELD, f"{name} is not a positive integer")
    # More digits than any page or page size has: a number past every limit, without
    # parsing thousands of digits.
    return int(text) if _NUMBER.fullmatch(text) else _TOO_BIG


def negotiate_version(x_v: str | None, x_min_v: str | None) -> int:
    """The version to answer with, by the standard's x-v/x-min-v rules (400 or 406)."""
    if x_v is None:
        raise _refuse(400, MISSING_HEADER, "x-v")
    wanted = _version(x_v, "x-v")
    least = _version(x_min_v, "x-min-v") if x_min_v is not None else None
    if least is not None and least >= wanted:
        least = None  # the standard: treated as absent
    if (least or wanted) <= VERSION <= wanted:
        return VERSION
    raise _refuse(406, UNSUPPORTED_VERSION, f"only version {VERSION} is served")


def _version(text: str, name: str) -> int:
    if not _NUMBER.fullmatch(text.strip()) or int(text) < 1:
        raise _refuse(400, INVALID_VERSION, f"{name} must be a positive integer")
    return int(text)


class Answerer:
    """Answers the routes of one process: its own store connection, encoder and cache."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.store = Store(options.store)
        nmis = self.store.nmis()
        self.nmis = frozenset(nmis)
        # The data holder's ids, as convert writes them; AEMO's are the NMIs themselves.
        self.by_id = {service_point_id(nmi, options.convert): nmi for nmi in nmis}
        self.secondary_options = msgspec.structs.replace(
            options.convert, service_point_id="nmi", id_secret=None, namespace=DEFAULT_NAMESPACE
        )
        self.encoder = Encoder(options.levels)
        self.cache = PageCache(options.cache_bytes)

    def today(self) -> date:
        return self.options.today or date.today()

    async def __call__(self, request: Request, endpoint: Endpoint) -> Response:
        interaction = request.headers.get("x-fapi-interaction-id") or str(uuid.uuid4())
        try:
            self._authorise(request)
            version = negotiate_version(request.headers.get("x-v"), request.headers.get("x-min-v"))
            if endpoint.secondary:
                for header in ("x-fapi-interaction-id", "x-cds-arrangement"):
                    if not request.headers.get(header):
                        raise _refuse(400, MISSING_HEADER, header)
            query = parse_query(request.query_params.multi_items(), self.today())
            nmis = self._nmis(request, endpoint, await _body(request, endpoint))
            coding = choose(request.headers.get("accept-encoding"))
            content = self.page(endpoint, nmis, query, _base_url(request), coding)
        except Refused as refused:
            return error_response(refused.status, refused.problems, interaction)
        headers = {"x-v": str(version), "x-fapi-interaction-id": interaction}
        headers["vary"] = "Accept-Encoding"
        if coding != "identity":
            headers["content-encoding"] = coding
        return Response(content, 200, headers, media_type=_JSON)

    def _authorise(self, request: Request) -> None:
        token = self.options.token
        if token is None:
            return
        given = request.headers.get("authorization", "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, f"Bearer {token}".encode()):
            raise _refuse(401, UNAUTHORIZED, "a valid bearer token is required")

    def _nmis(self, request: Request, endpoint: Endpoint, body: bytes) -> tuple[str, ...] | None:
        """The NMIs asked for (None: all); raises ``Refused`` for ids it does not hold."""
        if endpoint.scope == "all":
            return None
        if endpoint.scope == "one":
            nmi = self._nmi(request.path_params["servicePointId"], endpoint)
            if nmi is None:
                detail = request.path_params["servicePointId"]
                raise _refuse(404, INVALID_SERVICE_POINT, detail)
            return (nmi,)
        ids = _ids(body)
        found = {given: self._nmi(given, endpoint) for given in ids}
        unknown = [given for given, nmi in found.items() if nmi is None]
        if unknown:
            problem = INVALID_SERVICE_POINT
            raise Refused(422, [problem._replace(detail=given) for given in unknown])
        return tuple(sorted({nmi for nmi in found.values() if nmi is not None}))

    def _nmi(self, given: str, endpoint: Endpoint) -> str | None:
        if endpoint.secondary:
            return given if given in self.nmis else None
        return self.by_id.get(given)

    def page(
        self,
        endpoint: Endpoint,
        nmis: tuple[str, ...] | None,
        query: Query,
        base_url: str,
        coding: Coding,
    ) -> bytes:
        """One page in ``coding``, from the cache when it holds it."""
        key: Hashable = (endpoint.secondary, nmis, query, base_url, coding)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        content = self.encoder.encode(self.identity_page(endpoint, nmis, query, base_url), coding)
        self.cache.put(key, content)
        return content

    def identity_page(
        self, endpoint: Endpoint, nmis: tuple[str, ...] | None, query: Query, base_url: str
    ) -> bytes:
        """The page as ``nem2cdr convert --page N --page-size S`` writes it, with the query's
        interval-reads, oldest and newest date and ``base_url`` as its --base-url."""
        selection = Selection(nmis, query.oldest, query.newest, query.mode == "MIN_30")
        total = self.store.count(selection)
        try:
            check_page(query.page, query.page_size, total)
        except PageError as exc:
            raise _refuse(422, INVALID_PAGE, str(exc)) from None
        base = self.secondary_options if endpoint.secondary else self.options.convert
        options = msgspec.structs.replace(
            base,
            interval_reads=query.mode,
            oldest_date=query.oldest,
            newest_date=query.newest,
            base_url=base_url,
        )
        records = self.store.records(selection, (query.page - 1) * query.page_size, query.page_size)
        out = io.BytesIO()
        write_page(
            out,
            encoded_records(records, options),
            base_url,
            link_query(options),
            query.page,
            query.page_size,
            total,
        )
        return out.getvalue()


def encoded_records(records: Iterator[Record], options: ConvertOptions) -> Iterator[bytes]:
    """Each record as convert encodes it."""
    encode = ENCODER.encode
    for record in records:
        if isinstance(record, IntervalDay):
            yield encode(interval_record(record, options))
        else:
            yield encode(basic_record(record, options))


async def _body(request: Request, endpoint: Endpoint) -> bytes:
    if endpoint.method != "POST":
        return b""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _refuse(400, INVALID_FIELD, f"the body is over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _ids(body: bytes) -> list[str]:
    try:
        ids = _DECODE_IDS(body).data.service_point_ids
    except msgspec.ValidationError as exc:
        problem = MISSING_FIELD if "missing required field" in str(exc) else INVALID_FIELD
        raise _refuse(400, problem, f"the body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise _refuse(400, INVALID_FIELD, f"the body is not JSON: {exc}") from None
    return list(dict.fromkeys(ids))


def _base_url(request: Request) -> str:
    """The request's own URL without its query: the base of every link of the page."""
    url = request.url
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else url.path
    return f"{url.scheme}://{url.netloc}{path}"


def error_response(status: int, problems: list[_Problem], interaction: str) -> Response:
    errors = ErrorList([ErrorV2(p.code, p.title, p.detail) for p in problems])
    headers = {"x-fapi-interaction-id": interaction}
    if status == 401:
        headers["www-authenticate"] = "Bearer"
    return Response(ENCODER.encode(errors), status, headers, media_type=_JSON)


def create_app(options: ServeOptions) -> Starlette:
    """The ASGI application: the five routes over ``options.store``."""
    answerer = Answerer(options)

    def route(endpoint: Endpoint) -> Route:
        async def answer(request: Request) -> Response:
            return await answerer(request, endpoint)

        return Route(endpoint.path, answer, methods=[endpoint.method])

    async def not_found(request: Request, exc: Exception) -> Response:
        interaction = request.headers.get("x-fapi-interaction-id") or str(uuid.uuid4())
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        problem = NOT_FOUND if status == 404 else INVALID_FIELD
        detail = f"{request.method} {request.url.path}"
        return error_response(status, [problem._replace(detail=detail)], interaction)

    async def unexpected(request: Request, exc: Exception) -> Response:
        interaction = request.headers.get("x-fapi-interaction-id") or str(uuid.uuid4())
        problems = [UNEXPECTED._replace(detail=type(exc).__name__)]
        return error_response(500, problems, interaction)

    handlers: dict[int | type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: not_found,
        Exception: unexpected,
    }
    return Starlette(routes=[route(e) for e in ENDPOINTS], exception_handlers=handlers)


def app_from_environment() -> Starlette:
    """The application of a worker process: ``run`` passes the options in the environment."""
    text = os.environ.get(_ENVIRONMENT)
    if text is None:
        raise RuntimeError(f"{_ENVIRONMENT} is not set: start the server with nem2cdr serve")
    try:
        return create_app(msgspec.json.decode(text, type=ServeOptions))
    except StoreError as exc:
        # A worker started again after its store was moved away: one line, not a traceback
        # (the supervisor then stops the server: another start would fail the same way).
        raise SystemExit(f"nem2cdr serve: {exc}") from None


def check_address(host: str, port: int) -> None:
    """Raises ``OSError`` when ``host:port`` cannot be listened on (in use, not this
    machine's), before anything is read; the server binds it again when it starts."""
    with socket.socket(family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        probe.bind((host, port))


def run(
    options: ServeOptions,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    access_log: bool = False,
) -> None:
    """Serve until interrupted: in this process, or in ``workers`` processes that each listen
    on the address (``nem2cdr.listeners``: the kernel shares the connections among them)."""
    import uvicorn

    os.environ[_ENVIRONMENT] = msgspec.json.encode(options).decode()
    config: dict[str, Any] = {
        "app": f"{__name__}:app_from_environment",
        "factory": True,
        "access_log": access_log,
        "log_level": "info" if access_log else "warning",
        "server_header": False,
    }
    if workers > 1:
        supervise(host, port, workers, config)
    else:
        uvicorn.run(host=host, port=port, **config)
