"""Hostile input to ``nem2cdr check``: one line each, exit 1, bounded memory and time.

A real process (the installed command) under a 1 GiB address-space limit and a time limit, so
that a check that reads without end or holds too much fails here instead of on a user's machine.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr_cli.nem2cdr_commands import cli
from tests.check_reference import reference_check
from tests.test_check import Json, encode, valid

NEM2CDR = str(Path(sys.executable).parent / "nem2cdr")
LIMIT = 1 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def check_cli(*args: str, stdin: int | None = None) -> tuple[int, list[str]]:
    done = subprocess.run(
        [NEM2CDR, "check", *args],
        stdin=stdin,
        capture_output=True,
        timeout=60,
        preexec_fn=_limited,
    )
    assert b"Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stdout.decode().splitlines()


def response_with(aggregate: bytes) -> bytes:
    return encode(valid()).replace(b'"aggregateValue": 12.5', b'"aggregateValue": ' + aggregate)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (response_with(b"1e99999999999999999999"), "beyond any range"),
        (b"[" * 1_000_000 + b"]" * 1_000_000, "nested too deeply"),
        (b'{"data": "\xff\xfe"}', "utf-8"),
        (b"\x00" * 1000, "starts with the byte 0x00"),
    ],
    ids=["huge-exponent", "deep-nesting", "invalid-utf8", "nul-bytes"],
)
def test_hostile_bytes_are_one_e001_line(data: bytes, words: str, tmp_path: Path) -> None:
    [problem] = nem2cdr.check(data)
    assert (problem.code, problem.where) == ("CDR-E001", "$")
    assert words in problem.message
    path = tmp_path / "hostile.json"
    path.write_bytes(data)
    code, lines = check_cli(str(path))
    assert code == 1
    assert lines[1:] == [f"  CDR-E001 $: {problem.message}"]


def test_dev_zero_is_refused_at_its_first_byte() -> None:
    code, lines = check_cli("/dev/zero")
    assert (code, lines) == (1, ["FAILED /dev/zero: 1 problem", lines[1]])
    assert "0x00" in lines[1]
    with open("/dev/zero", "rb") as zero:
        code, lines = check_cli("-", stdin=zero.fileno())
    assert code == 1 and "0x00" in lines[1]


def test_a_folder_is_one_e012_line(tmp_path: Path) -> None:
    code, lines = check_cli(str(tmp_path))
    assert code == 1
    assert lines[1] == f"  CDR-E012 $: cannot read {tmp_path}: Is a directory"


def test_a_fifo_is_read_like_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        fifo.write_bytes(encode(valid()))

    writer = threading.Thread(target=feed)
    writer.start()
    code, lines = check_cli(str(fifo))
    writer.join()
    assert (code, lines) == (0, [f"ok {fifo}"])


def test_endless_whitespace_stops_at_the_size_limit(tmp_path: Path) -> None:
    # 300 MB of spaces after "[": a value past what check holds, refused in bounded memory.
    path = tmp_path / "spaces.json"
    with path.open("wb") as out:
        out.write(b"[")
        out.truncate(300 << 20)
    path.write_bytes(b"[" + b" " * (300 << 20))
    code, lines = check_cli(str(path))
    assert code == 1
    assert "a value larger than 64 MiB is not checked" in lines[1]


def test_a_huge_string_is_one_short_line(tmp_path: Path) -> None:
    payload = valid()
    # 60 MB as JSON (\u00fc each): one read just under the 64 MiB a read may take.
    payload["data"]["reads"][0]["servicePointId"] = "ü" * 10_000_000
    path = tmp_path / "huge.json"
    path.write_bytes(encode(payload))
    code, lines = check_cli(str(path))
    assert code == 1
    assert lines[1].startswith("  CDR-E014 $.data.reads[0].servicePointId: ")
    assert max(map(len, lines)) < 400


def test_json_lines_are_read_a_line_at_a_time(tmp_path: Path) -> None:
    # 20,000 reads (~4 MB, many read chunks) as JSON Lines: every line checked, in its order.
    line = encode(valid()["data"]["reads"][2]) + b"\n"
    path = tmp_path / "reads.jsonl"
    with path.open("wb") as out:
        out.write(line * 19_999 + b"{}\n")
    code, lines = check_cli(str(path))
    assert code == 1
    assert lines[1].startswith("  CDR-E002 $[19999]: ")


def test_an_overlong_json_line_is_one_problem() -> None:
    from nem2cdr import checking

    line = encode(valid()["data"]["reads"][2])
    data = line + b"\n" + b'{"x": "' + b"y" * (checking._MAX_LINE + 10) + b'"}\n' + line + b"\n"
    found = nem2cdr.check(data)
    assert [(p.code, p.where) for p in found] == [("CDR-E001", "$[1]")]


def test_a_read_of_too_many_values_is_one_problem_not_gigabytes() -> None:
    # 600,000 values: as Decimals past the memory check may use, so refused before decoding.
    payload = valid()
    payload["data"]["reads"][1]["intervalRead"]["intervalReads"] = [0] * 600_000
    [problem] = nem2cdr.check(encode(payload))
    assert (problem.code, problem.where) == ("CDR-E001", "$")
    assert "more than 500,000 values in one read" in problem.message
    assert "$.data.reads[1]" in problem.message


def test_json_broken_in_the_middle_is_one_line_naming_the_read_and_byte(tmp_path: Path) -> None:
    # 5,000 reads (several buffers of the scanner); read 4,000 loses a comma.
    read = encode(valid()["data"]["reads"][2])
    broken = read.replace(b'"registerSuffix"', b' "registerSuffix"').replace(b", ", b" ", 1)
    reads = [read] * 4000 + [broken] + [read] * 999
    text = b'{"data": {"reads": [' + b", ".join(reads) + b"]}}"
    path = tmp_path / "broken.json"
    path.write_bytes(text)
    code, lines = check_cli(str(path))
    assert code == 1
    offset = text.index(broken)
    assert lines[1].startswith("  CDR-E001 $: not JSON: ")
    assert lines[1].endswith(f"(in $.data.reads[4000], at byte {offset:,})")


class _EndlessSpaces(io.RawIOBase):
    """A stream of white space without end, as ``yes ' ' | nem2cdr check -`` gives."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = b" " * len(buffer)
        return len(buffer)


def test_endless_white_space_alone_is_one_line() -> None:
    # It used to read 64 MiB, copying the head over and over, then end in exit 4 (IndexError).
    [problem] = nem2cdr.check(cast(BinaryIO, _EndlessSpaces()))
    assert (problem.code, problem.where) == ("CDR-E001", "$")
    assert problem.message == "only white space in its first 64 MiB"


@pytest.mark.parametrize("layout", ["response", "lines"])
def test_millions_of_problems_are_the_first_thousand_and_a_count(layout: str) -> None:
    # 3,000 empty reads: four problems each. They used to be kept all (a 900 KB file of them
    # took 1 GB to report); now the first 1,000 of what the whole-document check finds, then
    # one line counting the rest.
    reads: list[dict[str, Json]] = [{}] * 3000
    if layout == "lines":
        data = b"\n".join(encode(read) for read in reads)
    else:
        data = encode({**valid(), "data": {"reads": reads}})
    expected = reference_check(data)
    assert len(expected) > 10_000
    found = nem2cdr.check(data, name="")  # the reference names no file
    assert found[:-1] == expected[:1000]
    assert (found[-1].code, found[-1].where) == ("CDR-E020", "$")
    more = len(expected) - 1000
    assert found[-1].message == f"{more:,} more problems not listed (only the first 1,000 are)"


def test_the_header_of_a_cut_list_says_more_than_it_lists(tmp_path: Path) -> None:
    path = tmp_path / "empty-reads.json"
    path.write_bytes(b"\n".join([b"{}"] * 600))  # four problems a read: 2,400
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"FAILED {path}: more than 1,000 problems"
