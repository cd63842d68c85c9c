"""The server's parts without a server: Accept-Encoding, the codings, the page cache, the
query and version rules."""

from __future__ import annotations

import gzip
import json
import socket
from datetime import date
from importlib import resources
from pathlib import Path

import brotli
import pytest
import zstandard
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from nem2cdr.encodings import PREFERENCE, Encoder, Levels, PageCache, choose
from nem2cdr.serving import (
    ENDPOINTS,
    PREFIX,
    QUERY_PARAMETERS,
    Refused,
    negotiate_version,
    parse_query,
)
from nem2cdr_cli.nem2cdr_commands import cli


@given(st.text(max_size=80))
def test_any_accept_encoding_gives_a_served_coding(header: str) -> None:
    assert choose(header) in PREFERENCE


@given(st.lists(st.sampled_from(["zstd", "br", "gzip", "identity"]), min_size=1, unique=True))
def test_the_highest_weight_wins_whatever_the_order(codings: list[str]) -> None:
    weights = {coding: f"0.{index + 1}" for index, coding in enumerate(codings)}
    header = ", ".join(f"{coding};q={weight}" for coding, weight in weights.items())
    assert choose(header) == codings[-1]


def test_refusing_identity_and_everything_still_answers_identity() -> None:
    assert choose("identity;q=0, *;q=0") == "identity"
    assert choose("gzip;q=0") == "identity"
    assert choose("GZIP") == "gzip"
    assert choose("x-gzip") == "gzip"


@given(st.binary(max_size=5000), st.sampled_from(PREFERENCE))
def test_each_coding_decodes_to_its_input(data: bytes, coding: str) -> None:
    encoded = Encoder(Levels()).encode(data, coding)  # type: ignore[arg-type]
    if coding == "gzip":
        encoded = gzip.decompress(encoded)
    elif coding == "br":
        encoded = bytes(brotli.decompress(encoded))
    elif coding == "zstd":
        encoded = zstandard.ZstdDecompressor().decompress(encoded)
    assert encoded == data


def test_levels_change_the_bytes_and_are_checked() -> None:
    data = b'{"intervalReads":[0.125,0.5,1.75]}' * 500
    fast, small = Encoder(Levels(gzip=1, br=0, zstd=1)), Encoder(Levels(gzip=9, br=11, zstd=19))
    for coding in ("gzip", "br", "zstd"):
        smaller = small.encode(data, coding)
        assert len(smaller) <= len(fast.encode(data, coding))
    with pytest.raises(ValueError, match="gzip level"):
        Levels(gzip=10)


def test_the_cache_keeps_the_recent_pages_within_its_limit() -> None:
    cache = PageCache(limit=3 * (1000 + 512))
    for key in "abc":
        cache.put(key, bytes(1000))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", bytes(1000))
    assert cache.get("b") is None and cache.get("a") is not None
    assert len(cache) == 3 and cache.size <= cache.limit
    cache.put("huge", bytes(10_000))  # larger than the whole cache: not kept
    assert cache.get("huge") is None and len(cache) == 3
    assert PageCache(0).get("a") is None


TODAY = date(2024, 2, 29)


def test_dates_default_to_24_months_before_today() -> None:
    query = parse_query([], TODAY)
    assert (query.oldest, query.newest) == (date(2022, 2, 28), TODAY)
    assert (query.mode, query.page, query.page_size) == ("NONE", 1, 25)
    query = parse_query([("newest-date", "2023-06-30"), ("other", "x")], TODAY)
    assert (query.oldest, query.newest) == (date(2021, 6, 30), date(2023, 6, 30))


@given(st.dates())
@example(date(2, 1, 1))
@example(date(1, 1, 1))
@example(date(3, 2, 28))
def test_any_newest_date_has_a_default_oldest_date(newest: date) -> None:
    # newest-date=0002-01-01 was a 500: 24 months before it is no date.
    query = parse_query([("newest-date", newest.isoformat())], TODAY)
    assert date.min <= query.oldest <= query.newest == newest


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=5))
def test_any_query_is_parsed_or_refused_with_400(parameters: list[tuple[str, str]]) -> None:
    try:
        query = parse_query(parameters, TODAY)
    except Refused as refused:
        assert refused.status == 400
        assert len(refused.problems) == 1
    else:
        assert 1 <= query.page_size <= 1000 and query.oldest <= query.newest


@pytest.mark.parametrize(
    ("x_v", "x_min_v", "answer"),
    [("1", None, 1), ("5", "1", 1), ("5", "2", 406), ("2", "2", 406), (None, None, 400)],
)
def test_version_negotiation(x_v: str | None, x_min_v: str | None, answer: int) -> None:
    if answer == 1:
        assert negotiate_version(x_v, x_min_v) == 1
        return
    with pytest.raises(Refused) as refused:
        negotiate_version(x_v, x_min_v)
    assert refused.value.status == answer


SAMPLE = Path(__file__).parent.parent / "samples"


def test_serve_refuses_a_store_that_is_not_one_in_one_line(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("my notes " * 20)
    result = CliRunner().invoke(cli, ["serve", str(SAMPLE), "--store", str(other)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"nem2cdr serve: {other}: not a nem2cdr store (file is not a database); it is left alone"
    ]
    assert other.read_text() == "my notes " * 20


def test_serve_names_a_missing_input_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = CliRunner().invoke(cli, ["serve", str(missing), "--store", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert result.output.strip() == f"nem2cdr serve: {missing}: no such file or folder"
    assert not (tmp_path / "s").exists()


def test_serve_refuses_contradicting_id_options_before_reading(tmp_path: Path) -> None:
    arguments = ["serve", str(SAMPLE), "--store", str(tmp_path / "s")]
    result = CliRunner().invoke(
        cli, [*arguments, "--service-point-id", "nmi", "--id-secret", "x" * 16]
    )
    assert result.exit_code == 2
    assert "id secret" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("token", ["", " secret", "secret\t"])
def test_serve_refuses_a_token_no_request_can_carry(token: str, tmp_path: Path) -> None:
    # HTTP drops white space around a header's value: such a server used to answer 401 to all.
    arguments = ["serve", str(SAMPLE), "--store", str(tmp_path / "s"), "--token", token]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2
    assert "--token" in result.output and "white space" in result.output
    assert not (tmp_path / "s").exists()


def test_serve_names_an_address_it_cannot_listen_on_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        arguments = ["serve", str(SAMPLE), "--store", str(tmp_path / "s"), "--port", str(port)]
        result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"nem2cdr serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert not (tmp_path / "s").exists()  # refused before reading anything


def test_the_data_holder_routes_are_the_shipped_openapi_s_usage_operations() -> None:
    document = json.loads((resources.files("nem2cdr") / "schema" / "cds_energy.json").read_text())
    shipped = {
        (f"{PREFIX}{path}", method.upper())
        for path, operations in document["paths"].items()
        if path.endswith("/usage")
        for method in operations
    }
    served = {(e.path, e.method) for e in ENDPOINTS if not e.secondary}
    assert served == shipped
    # Every query parameter the operations name is one the server reads.
    parameters = document["components"]["parameters"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not path.endswith("/usage"):
                continue
            names = {
                parameters[ref["$ref"].rsplit("/", 1)[1]]["name"]
                for ref in operation["parameters"]
                if parameters[ref["$ref"].rsplit("/", 1)[1]]["in"] == "query"
            }
            assert names == set(QUERY_PARAMETERS), (path, method)
