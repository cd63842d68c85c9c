"""``convert`` without paging options: one response only while it fits a standard page.

The standard's largest page is 1,000 reads; no response may hold more. Past that, ``convert``
is a usage error that names the choices (``--page``, ``--all-pages DIR``, ``--jsonl``) and
writes nothing, unless asked for the non-standard ``--whole-file`` dump (docs/cli.md).
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr.usage import OptionsError
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import nem12, row_300

E1 = "200,6102000001,E1,1,E1,N1,METER1,kWh,30,"


def days(count: int) -> bytes:
    """One NMI's ``count`` days of half-hours: ``count`` records."""
    first = date(2021, 1, 1)
    rows = [row_300((first + timedelta(n)).strftime("%Y%m%d")) for n in range(count)]
    return nem12(E1, *rows)


@pytest.fixture(scope="module")
def fits() -> bytes:
    return days(1000)


@pytest.fixture(scope="module")
def too_many() -> bytes:
    return days(1001)


def test_1000_records_are_one_valid_response(fits: bytes) -> None:
    out = io.BytesIO()
    result = nem2cdr.convert(io.BytesIO(fits), out)
    assert (result.total_records, result.total_pages) == (1000, 1)
    assert nem2cdr.check(out.getvalue()) == []


def test_1001_records_are_refused_and_nothing_is_written(too_many: bytes) -> None:
    out = io.BytesIO()
    with pytest.raises(OptionsError) as raised:
        nem2cdr.convert(io.BytesIO(too_many), out)
    for choice in ("--page", "--all-pages DIR", "--jsonl", "--whole-file", "1,001 records"):
        assert choice in str(raised.value)
    assert out.getvalue() == b""


def test_the_cli_refuses_with_a_usage_error_and_leaves_no_file(
    too_many: bytes, tmp_path: Path
) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "usage.json"
    source.write_bytes(too_many)
    done = CliRunner().invoke(cli, ["convert", "-q", str(source), "-o", str(target)])
    assert done.exit_code == 2
    assert "--page" in done.stderr and "--all-pages" in done.stderr and "--jsonl" in done.stderr
    assert "Traceback" not in done.output
    assert not target.exists()


@pytest.mark.parametrize(
    "args",
    [["--page", "1"], ["--page-size", "1000"], ["--jsonl"]],
    ids=["page", "page-size", "jsonl"],
)
def test_a_paging_option_or_json_lines_converts_it(too_many: bytes, args: list[str]) -> None:
    done = CliRunner().invoke(cli, ["convert", "-q", "-", *args], input=too_many)
    assert done.exit_code == 0
    assert nem2cdr.check(done.stdout_bytes) == []


def test_all_pages_converts_it(too_many: bytes, tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    source = tmp_path / "in.csv"
    source.write_bytes(too_many)
    result = nem2cdr.convert(source, all_pages=folder, page_size=1000)
    assert result.total_pages == 2
    assert all(nem2cdr.check(path) == [] for path in sorted(folder.iterdir()))


def test_whole_file_writes_the_non_standard_dump_that_check_rejects(too_many: bytes) -> None:
    out = io.BytesIO()
    result = nem2cdr.convert(io.BytesIO(too_many), out, whole_file=True)
    assert (result.total_records, result.total_pages) == (1001, 1)
    payload = json.loads(out.getvalue())
    assert len(payload["data"]["reads"]) == 1001
    # Too many reads for a page, and too few pages (one) for 1,001 records.
    assert [p.code for p in nem2cdr.check(out.getvalue())] == ["CDR-E019", "CDR-E010"]


def test_whole_file_takes_no_page_options(fits: bytes) -> None:
    with pytest.raises(OptionsError):
        nem2cdr.convert(io.BytesIO(fits), io.BytesIO(), whole_file=True, page=1)
    done = CliRunner().invoke(cli, ["convert", "-q", "-", "--whole-file", "--page-size", "5"])
    assert done.exit_code == 2


def test_help_names_the_whole_file_dump_non_standard() -> None:
    done = CliRunner().invoke(cli, ["convert", "--help"])
    text = " ".join(done.output.split())
    assert "--whole-file NON-STANDARD" in text
