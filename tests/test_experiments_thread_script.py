"""Differential: --thread-compat against the 2022 script itself, on generated files.

The script is another project's code and is not in this repository: the test runs where a
local copy is named by ``NEM2CDR_THREAD_SCRIPT`` (the folder holding ``nem2cdr.pl``,
``N2C.pm``, ``N2CPayloads.pm``; perlboy/cdr-tools ``experiments/energy/nem2cdr``) and Perl
has JSON::XS, Text::CSV and Data::UUID (Debian: libjson-xs-perl, libtext-csv-perl,
libdata-uuid-perl). Gzip::Faster, not packaged, is stood in for by a shim over core
IO::Compress::Gzip that the test writes. Elsewhere it is skipped, saying why;
``test_experiments_compat.py`` checks each behaviour directly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import nem2cdr_experiments as experiments
from nem2cdr.generator import generate

SCRIPT = os.environ.get("NEM2CDR_THREAD_SCRIPT", "")
SHIM = """package Gzip::Faster;
use IO::Compress::Gzip qw($GzipError);
use Exporter 'import';
our @EXPORT = ('gzip');
sub gzip { my ($in, $out) = (shift);
    IO::Compress::Gzip::gzip(\\$in => \\$out) or die $GzipError; $out }
1;
"""
MODULES = ["JSON::XS", "Text::CSV", "Data::UUID"]


def _missing() -> str | None:
    if not SCRIPT or not (Path(SCRIPT) / "nem2cdr.pl").is_file():
        return "NEM2CDR_THREAD_SCRIPT does not name a local copy of the 2022 script"
    if shutil.which("perl") is None:
        return "no perl"
    for module in MODULES:
        if subprocess.run(["perl", f"-M{module}", "-e1"], capture_output=True).returncode:
            return (
                f"perl lacks {module} (Debian: libjson-xs-perl libtext-csv-perl libdata-uuid-perl)"
            )
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None, reason=_missing() or "")]


def _masked(value: Any) -> Any:
    """UUIDs (random in both) out. In 07, a day's one list of reads holds the registers in
    the order the script walked them, random in both: compared as a multiset, and the
    final_substitutes that accumulate in that order are left out."""
    if isinstance(value, dict):
        masked = {k: "UUID" if k == "servicePointId" else _masked(v) for k, v in value.items()}
        reads = value.get("reads")
        if (
            "suffix" in value  # a register of 06 or 07
            and isinstance(reads, list)
            and all(not isinstance(read, dict) for read in reads)  # 07's plain numbers
        ):
            masked["reads"] = sorted(reads)
            masked.pop("final_substitutes", None)
        return masked
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _records(path: Path) -> list[str]:
    return sorted(json.dumps(_masked(r), sort_keys=True) for r in json.loads(path.read_bytes()))


@pytest.mark.parametrize(("nmis", "days", "interval"), [(1, 60, 15), (2, 20, 5), (3, 10, 30)])
def test_compat_payloads_equal_the_script_s_once_parsed(
    tmp_path: Path, nmis: int, days: int, interval: int
) -> None:
    source = tmp_path / "gen.csv"
    generate(source, nmis=nmis, days=days, interval=interval, seed=nmis)
    script = tmp_path / "script"
    shutil.copytree(SCRIPT, script)
    (script / "Gzip").mkdir(exist_ok=True)
    (script / "Gzip" / "Faster.pm").write_text(SHIM)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    subprocess.run(
        ["perl", str(script / "nem2cdr.pl"), "-f", str(source), "-s", "-d", str(theirs)],
        check=True,
        capture_output=True,
    )
    ours = tmp_path / "ours"
    only = "00,01,02,03,04,05,06,07"
    experiments.run(source, only=only, codecs="gzip:6", out_dir=ours, thread_compat=True)
    for number in range(8):
        (their,) = theirs.glob(f"0{number} *.json")
        (our,) = ours.glob(f"0{number}-*.json")
        assert their.stat().st_size == our.stat().st_size, number
        assert _records(their) == _records(our), number
