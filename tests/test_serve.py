"""``nem2cdr serve`` as a client sees it: a real server process on loopback, driven by httpx.

Every page is compared with what ``nem2cdr convert`` writes for the same records and options
(the same service points, interval-reads, dates, page and page size, and the request's URL as
--base-url): byte for byte.
"""

from __future__ import annotations

import gzip
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import brotli
import httpx
import msgspec
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr.checking import _validator
from nem2cdr.generator import generate_days
from nem2cdr.usage import ConvertOptions, service_point_id
from tests.helpers import CORPUS
from tests.serve_helpers import HOLDER, SECONDARY, Server, serving

pytestmark = pytest.mark.slow  # each module starts server processes

TODAY = date(2024, 2, 9)
NEM13 = CORPUS / "nem13" / "nem13#12#INTEGM#NEMMCO.zip"  # twelve basic reads of 2004
ARGUMENTS = ("--today", TODAY.isoformat(), "--controlled-load", "E2")
HOLDER_OPTIONS = ConvertOptions(controlled_load=frozenset({"E2"}))
SECONDARY_OPTIONS = ConvertOptions(controlled_load=frozenset({"E2"}), service_point_id="nmi")
HEADERS = {"x-v": "1"}
SDH_HEADERS = {"x-v": "1", "x-fapi-interaction-id": str(uuid.uuid4()), "x-cds-arrangement": "a1"}
CODINGS = ["zstd", "br", "gzip", "identity"]


class Data:
    """The inputs: one file per NMI (three NEM12 NMIs and a NEM13 one), so that convert can be
    given exactly the files of the service points a request asks for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "inputs"
        self.folder.mkdir()
        days = list(generate_days(nmis=3, days=40, interval=15, start=date(2024, 1, 1)))
        self.members: dict[str, bytes] = {}
        for nmi in sorted({day.stream.nmi for day in days}):
            out = io.BytesIO()
            nem2cdr.write(out, [day for day in days if day.stream.nmi == nmi])
            self.members[nmi] = out.getvalue()
        with zipfile.ZipFile(NEM13) as archive:
            self.members["NEM1312026"] = archive.read(archive.namelist()[0])
        for index, data in enumerate(self.members.values()):
            (self.folder / f"{index}.csv").write_bytes(data)
        self.nmis = sorted(self.members)
        self._zips = folder / "zips"
        self._zips.mkdir()

    def source(self, nmis: list[str]) -> Path:
        """A zip of the files of ``nmis``, in the server's order (what convert reads)."""
        path = self._zips / f"{'-'.join(nmis)}.zip"
        if not path.exists():
            with zipfile.ZipFile(path, "w") as archive:
                for nmi in self.nmis:
                    if nmi in nmis:
                        archive.writestr(f"{nmi}.csv", self.members[nmi])
        return path

    def convert(self, nmis: list[str], options: ConvertOptions, page: int, page_size: int) -> bytes:
        out = io.BytesIO()
        result = nem2cdr.convert(self.source(nmis), out, options, page=page, page_size=page_size)
        assert result.ok
        return out.getvalue()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return Data(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def server(data: Data) -> Iterator[Server]:
    with serving([data.folder], data.folder.parent / "store.sqlite", *ARGUMENTS) as running:
        yield running


def holder_id(nmi: str) -> str:
    return service_point_id(nmi, HOLDER_OPTIONS)


def params(mode: str, oldest: date, newest: date, page: int, size: int) -> dict[str, str]:
    return {
        "interval-reads": mode,
        "oldest-date": oldest.isoformat(),
        "newest-date": newest.isoformat(),
        "page": str(page),
        "page-size": str(size),
    }


def expected(
    data: Data, server: Server, route: str, nmis: list[str], query: dict[str, str]
) -> bytes:
    """What convert writes for this request (the route's URL is its --base-url)."""
    base = SECONDARY_OPTIONS if route.startswith(SECONDARY) else HOLDER_OPTIONS
    options = msgspec.structs.replace(
        base,
        interval_reads=query.get("interval-reads", "NONE"),
        oldest_date=date.fromisoformat(query["oldest-date"]),
        newest_date=date.fromisoformat(query["newest-date"]),
        base_url=server.url + route,
    )
    return data.convert(nmis, options, int(query["page"]), int(query["page-size"]))


def request(
    server: Server, data: Data, kind: str, nmis: list[str], query: dict[str, str]
) -> tuple[str, httpx.Response]:
    """Ask ``kind`` of route for ``nmis``; returns the route's path and the response."""
    with server.client() as client:
        if kind == "one":
            route = f"{HOLDER}/{holder_id(nmis[0])}/usage"
            return route, client.get(route, params=query, headers=HEADERS)
        if kind == "all":
            route = f"{HOLDER}/usage"
            return route, client.get(route, params=query, headers=HEADERS)
        if kind == "listed":
            route = f"{HOLDER}/usage"
            body = {"data": {"servicePointIds": [holder_id(nmi) for nmi in nmis]}}
            return route, client.post(route, params=query, headers=HEADERS, json=body)
        if kind == "secondary-one":
            route = f"{SECONDARY}/{nmis[0]}/usage"
            return route, client.get(route, params=query, headers=SDH_HEADERS)
        route = f"{SECONDARY}/usage"
        body = {"data": {"servicePointIds": nmis}}
        return route, client.post(route, params=query, headers=SDH_HEADERS, json=body)


KINDS = ["one", "all", "listed", "secondary-one", "secondary-listed"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["NONE", "MIN_30", "FULL"])
def test_every_route_answers_convert_s_bytes(
    server: Server, data: Data, kind: str, mode: str
) -> None:
    nmis = data.nmis if kind == "all" else data.nmis[1:2] if "one" in kind else data.nmis[::2]
    query = params(mode, date(2004, 1, 1), TODAY, 2, 9)
    route, response = request(server, data, kind, nmis, query)
    assert response.status_code == 200, response.text
    assert response.content == expected(data, server, route, nmis, query)
    assert nem2cdr.check(response.content) == []
    assert response.headers["x-v"] == "1"
    assert response.headers["content-type"] == "application/json"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(KINDS),
    choice=st.sets(st.integers(0, 3), min_size=1),
    mode=st.sampled_from(["NONE", "MIN_30", "FULL"]),
    oldest=st.dates(date(2004, 1, 1), date(2024, 3, 1)),
    span=st.integers(0, 8000),
    size=st.integers(1, 60),
    page_draw=st.floats(0, 1),
)
def test_any_page_of_any_query_is_convert_s_page(
    server: Server,
    data: Data,
    kind: str,
    choice: set[int],
    mode: str,
    oldest: date,
    span: int,
    size: int,
    page_draw: float,
) -> None:
    nmis = data.nmis if kind == "all" else [data.nmis[i] for i in sorted(choice)]
    if "one" in kind:
        nmis = nmis[:1]
    newest = oldest + timedelta(days=span)
    first = params(mode, oldest, newest, 1, size)
    route, response = request(server, data, kind, nmis, first)
    pages = response.json()["meta"]["totalPages"]
    page = 1 + int(page_draw * max(pages - 1, 0))
    query = params(mode, oldest, newest, page, size)
    route, response = request(server, data, kind, nmis, query)
    assert response.content == expected(data, server, route, nmis, query)


def test_following_next_links_gives_every_record_once_in_order(server: Server, data: Data) -> None:
    query = params("FULL", date(2004, 1, 1), TODAY, 1, 7)
    reads: list[Any] = []
    pages = 0
    with server.client() as client:
        response = client.get(f"{HOLDER}/usage", params=query, headers=HEADERS)
        while True:
            assert response.status_code == 200
            body = response.json()
            reads += body["data"]["reads"]
            pages += 1
            url: str | None = body["links"].get("next")
            if url is None:
                break
            assert url.startswith(server.url + HOLDER)  # absolute, from the request's URL
            response = client.get(url, headers=HEADERS)
    out = io.BytesIO()
    options = ConvertOptions(
        controlled_load=frozenset({"E2"}),
        interval_reads="FULL",
        oldest_date=date(2004, 1, 1),
        newest_date=TODAY,
    )
    nem2cdr.convert(data.source(data.nmis), out, options, jsonl=True)
    assert reads == [json.loads(line) for line in out.getvalue().splitlines()]
    assert pages == body["meta"]["totalPages"] > 10
    assert body["links"]["self"] == body["links"]["prev"].replace(
        f"page={pages - 1}&", f"page={pages}&"
    )


def test_without_parameters_the_standard_s_defaults_apply(server: Server, data: Data) -> None:
    with server.client() as client:
        response = client.get(f"{HOLDER}/usage", headers=HEADERS)
    # newest-date: today (--today); oldest-date: 24 months before; NONE; page 1 of 25.
    query = params("NONE", date(2022, 2, 9), TODAY, 1, 25)
    query.pop("interval-reads")
    assert response.content == expected(data, server, f"{HOLDER}/usage", data.nmis, query)
    assert response.json()["meta"]["totalRecords"] == 40 * 7  # the 2004 reads are too old


def test_interaction_ids_are_echoed_or_made(server: Server) -> None:
    with server.client() as client:
        given_id = str(uuid.uuid4())
        echoed = client.get(
            f"{HOLDER}/usage", headers={**HEADERS, "x-fapi-interaction-id": given_id}
        )
        made = client.get(f"{HOLDER}/usage", headers=HEADERS)
        refused = client.get(f"{HOLDER}/usage", headers={"x-fapi-interaction-id": given_id})
    assert echoed.headers["x-fapi-interaction-id"] == given_id
    assert uuid.UUID(made.headers["x-fapi-interaction-id"]).version == 4
    assert refused.headers["x-fapi-interaction-id"] == given_id


@pytest.mark.parametrize(
    ("x_v", "x_min_v", "status", "answered"),
    [
        ("1", None, 200, "1"),
        ("3", "1", 200, "1"),  # the highest served version between them
        ("3", "3", 406, None),  # x-min-v >= x-v: as if absent, and 3 is not served
        ("2", None, 406, None),
        ("1", "2", 200, "1"),  # x-min-v above x-v is ignored
    ],
)
def test_versions_are_negotiated_as_the_standard_says(
    server: Server, x_v: str, x_min_v: str | None, status: int, answered: str | None
) -> None:
    headers = {"x-v": x_v} if x_min_v is None else {"x-v": x_v, "x-min-v": x_min_v}
    with server.client() as client:
        response = client.get(f"{HOLDER}/usage", headers=headers)
    assert response.status_code == status
    assert response.headers.get("x-v") == answered
    if status == 406:
        assert codes(response) == ["urn:au-cds:error:cds-all:Header/UnsupportedVersion"]


def codes(response: httpx.Response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


ALL = "urn:au-cds:error:cds-all:"
BAD_SERVICE_POINT = "urn:au-cds:error:cds-energy:Authorisation/InvalidServicePoint"


@pytest.mark.parametrize(
    ("path", "headers", "query", "status", "code"),
    [
        (f"{HOLDER}/usage", {}, {}, 400, f"{ALL}Header/Missing"),
        (f"{HOLDER}/usage", {"x-v": "one"}, {}, 400, f"{ALL}Header/InvalidVersion"),
        (f"{HOLDER}/usage", {"x-v": "0"}, {}, 400, f"{ALL}Header/InvalidVersion"),
        (f"{HOLDER}/usage", {"x-v": "1", "x-min-v": "-1"}, {}, 400, f"{ALL}Header/InvalidVersion"),
        (f"{HOLDER}/usage", HEADERS, {"interval-reads": "ALL"}, 400, f"{ALL}Field/Invalid"),
        (
            f"{HOLDER}/usage",
            HEADERS,
            {"oldest-date": "2024-13-01"},
            400,
            f"{ALL}Field/InvalidDateTime",
        ),
        (
            f"{HOLDER}/usage",
            HEADERS,
            {"newest-date": "20240101"},
            400,
            f"{ALL}Field/InvalidDateTime",
        ),
        (f"{HOLDER}/usage", HEADERS, {"oldest-date": "2024-02-10"}, 400, f"{ALL}Field/Invalid"),
        (f"{HOLDER}/usage", HEADERS, {"page": "0"}, 400, f"{ALL}Field/Invalid"),
        (f"{HOLDER}/usage", HEADERS, {"page": "x"}, 400, f"{ALL}Field/Invalid"),
        (f"{HOLDER}/usage", HEADERS, {"page": "99"}, 422, f"{ALL}Field/InvalidPage"),
        (f"{HOLDER}/usage", HEADERS, {"page": "9" * 40}, 422, f"{ALL}Field/InvalidPage"),
        (f"{HOLDER}/usage", HEADERS, {"page-size": "0"}, 400, f"{ALL}Field/InvalidPageSize"),
        (f"{HOLDER}/usage", HEADERS, {"page-size": "1001"}, 400, f"{ALL}Field/InvalidPageSize"),
        (f"{HOLDER}/usage", HEADERS, {"page-size": "-5"}, 400, f"{ALL}Field/Invalid"),
        (f"{HOLDER}/nobody/usage", HEADERS, {}, 404, BAD_SERVICE_POINT),
        (f"{SECONDARY}/6102000001/usage", HEADERS, {}, 400, f"{ALL}Header/Missing"),
        (f"{SECONDARY}/nobody/usage", SDH_HEADERS, {}, 404, BAD_SERVICE_POINT),
        (
            "/cds-au/v1/energy/electricity/servicepoints",
            HEADERS,
            {},
            404,
            f"{ALL}Resource/NotFound",
        ),
    ],
)
def test_each_bad_request_gets_the_standard_s_error(
    server: Server,
    path: str,
    headers: dict[str, str],
    query: dict[str, str],
    status: int,
    code: str,
) -> None:
    with server.client() as client:
        response = client.get(path, params=query, headers=headers)
    assert (response.status_code, codes(response)) == (status, [code])
    assert response.json()["errors"][0]["detail"]
    assert "x-fapi-interaction-id" in response.headers
    for schema in ("ResponseErrorListV2", "PrimaryResponseErrorListV1"):
        assert _validator(schema).is_valid(response.json())


def test_a_method_a_route_does_not_take_is_refused_in_the_standard_s_shape(
    server: Server,
) -> None:
    with server.client() as client:
        response = client.delete(f"{HOLDER}/usage", headers=HEADERS)
    assert (response.status_code, codes(response)) == (405, [f"{ALL}Field/Invalid"])


def test_a_parameter_given_twice_is_refused(server: Server) -> None:
    with server.client() as client:
        response = client.get(f"{HOLDER}/usage?page=1&page=2", headers=HEADERS)
    assert (response.status_code, codes(response)) == (400, [f"{ALL}Field/Invalid"])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", f"{ALL}Field/Invalid"),
        (b"{", f"{ALL}Field/Invalid"),
        (b"{}", f"{ALL}Field/Missing"),
        (b'{"data":{}}', f"{ALL}Field/Missing"),
        (b'{"data":{"servicePointIds":"x"}}', f"{ALL}Field/Invalid"),
        (b'{"data":{"servicePointIds":[1]}}', f"{ALL}Field/Invalid"),
    ],
)
def test_a_bad_body_is_refused(server: Server, body: bytes, code: str) -> None:
    with server.client() as client:
        response = client.post(f"{HOLDER}/usage", content=body, headers=HEADERS)
    assert (response.status_code, codes(response)) == (400, [code])


def test_unknown_ids_in_a_body_are_each_named_with_422(server: Server, data: Data) -> None:
    body = {"data": {"servicePointIds": [holder_id(data.nmis[0]), "x", "y", data.nmis[1]]}}
    with server.client() as client:
        response = client.post(f"{HOLDER}/usage", json=body, headers=HEADERS)
    assert response.status_code == 422
    assert codes(response) == [BAD_SERVICE_POINT] * 3  # an NMI is no data holder's id
    details = [error["detail"] for error in response.json()["errors"]]
    assert details == ["x", "y", data.nmis[1]]


def decoded(content: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.decompress(content)
    if coding == "br":
        return bytes(brotli.decompress(content))
    if coding == "zstd":
        return zstandard.ZstdDecompressor().decompress(content)
    return content


def raw(client: httpx.Client, url: str, accept: str, query: dict[str, str]) -> httpx.Response:
    """The response with its body as sent (httpx would decode it)."""
    headers = {**HEADERS, "accept-encoding": accept}
    with client.stream("GET", url, params=query, headers=headers) as response:
        response._content = b"".join(response.iter_raw())
    return response


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("zstd", "zstd"),
        ("identity", "identity"),
        ("gzip, br, zstd", "zstd"),  # equal weights: the preferred one
        ("gzip;q=1, br;q=0.5, zstd;q=0.1", "gzip"),
        ("br;q=0.9, *;q=0.2", "br"),
        ("*", "zstd"),
        ("zstd;q=0, *;q=0.5", "br"),
        ("compress, deflate", "identity"),  # none served: identity is always acceptable
        ("gzip;q=2", "identity"),  # not a weight: ignored
    ],
)
def test_each_coding_decodes_to_the_identity_bytes(
    server: Server, accept: str, coding: str
) -> None:
    query = params("FULL", date(2024, 1, 1), TODAY, 2, 30)
    with server.client() as client:
        plain = raw(client, f"{HOLDER}/usage", "identity", query)
        response = raw(client, f"{HOLDER}/usage", accept, query)
    assert response.headers.get("content-encoding", "identity") == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert decoded(response.content, coding) == plain.content
    if coding != "identity":
        assert len(response.content) < len(plain.content) / 3


_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30).map(
    str.strip
)
_QUERY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(
                ["interval-reads", "oldest-date", "newest-date", "page", "page-size", "other"]
            ),
            st.one_of(_QUERY_TEXT, st.integers(-(10**30), 10**30).map(str)),
        ),
        max_size=6,
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["data", "servicePointIds", "meta"]), inner)
            ),
            max_leaves=8,
        ).map(lambda value: json.dumps(value).encode()),
    ),
    x_v=st.one_of(st.none(), _HEADER_TEXT),
    accept=st.one_of(st.none(), _HEADER_TEXT),
)
def test_fuzzed_queries_and_bodies_get_an_answer_never_a_crash(
    server: Server,
    query: list[tuple[str, str | int | float | bool | None]],
    body: bytes,
    x_v: str | None,
    accept: str | None,
) -> None:
    headers = {"x-v": x_v} if x_v is not None else {}
    if accept is not None:
        headers["accept-encoding"] = accept
    with server.client() as client:
        for response in (
            client.get(f"{HOLDER}/usage", params=query, headers=headers),
            client.post(f"{HOLDER}/usage", params=query, headers=headers, content=body),
            client.get(f"{SECONDARY}/6102000001/usage", params=query, headers=SDH_HEADERS),
        ):
            assert response.status_code in (200, 400, 404, 406, 422), response.text
            assert "Traceback" not in response.text
            payload = response.json()
            assert ("errors" in payload) == (response.status_code != 200)


def test_a_token_is_required_when_set_and_workers_share_the_store(
    data: Data, tmp_path: Path
) -> None:
    secret = "a-recipient-secret-0123"
    arguments = (*ARGUMENTS, "--token", "s3cret-token", "--workers", "2", "--cache-mb", "0")
    store = tmp_path / "store.sqlite"
    keyed = service_point_id(data.nmis[0], ConvertOptions(id_secret=secret.encode()))
    allowed = {**HEADERS, "authorization": "Bearer s3cret-token"}
    query = params("FULL", date(2024, 1, 1), TODAY, 1, 10)
    with (
        serving([data.folder], store, *arguments, "--id-secret", secret) as running,
        running.client() as client,
    ):
        refused = client.get(f"{HOLDER}/usage", headers=HEADERS)
        wrong = client.get(f"{HOLDER}/usage", headers={**HEADERS, "authorization": "Bearer nope"})
        answers = [client.get(f"{HOLDER}/usage", headers=allowed) for _ in range(6)]
        one = client.get(f"{HOLDER}/{keyed}/usage", params=query, headers=allowed)
        plain_id = client.get(f"{HOLDER}/{holder_id(data.nmis[0])}/usage", headers=allowed)
        secondary = client.get(
            f"{SECONDARY}/{data.nmis[0]}/usage", headers={**SDH_HEADERS, **allowed}
        )
    assert refused.status_code == wrong.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert codes(refused) == [f"{ALL}Authorisation/Unauthorized"]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    # --id-secret shapes the ids as convert's does: the keyed id answers, the plain one is unknown.
    options = ConvertOptions(
        controlled_load=frozenset({"E2"}),
        id_secret=secret.encode(),
        interval_reads="FULL",
        oldest_date=date(2024, 1, 1),
        newest_date=TODAY,
        base_url=f"{running.url}{HOLDER}/{keyed}/usage",
    )
    assert one.content == data.convert(data.nmis[:1], options, 1, 10)
    assert plain_id.status_code == 404
    # AEMO's routes speak NMIs whatever the data holder's ids are.
    assert secondary.json()["data"]["reads"][0]["servicePointId"] == data.nmis[0]


def test_a_restart_reuses_the_store(data: Data, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    for _ in range(2):
        with serving([data.folder], store, *ARGUMENTS) as running:
            pass
    assert "reused, 4 files" in running.log.read_text()
