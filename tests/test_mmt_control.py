"""Every control failure of docs/mmtlite.md through `mmtlite load`: exit 1, one clear line with the
code and the file, the lists and the ledger unchanged, the refusal in the log and the error
table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmtlite import activity
from mmtlite.codes import CODES
from mmtlite.paths import Place
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_helpers import codes_file, digest, make, meter, reading

NAME = "NONCOMM_BUILD_20240301120000.csv"
GOOD = "HDR|NONCOMM|2|20240301120000|BUILD\nMSN000009|NC01|20240301|ADD\nTRL|1\n"

# code -> (file name, content) of a file refused for that reason; None content: no file there.
BROKEN: dict[str, tuple[str, bytes | None]] = {
    "MMT-C001": (NAME, None),
    "MMT-C002": ("noncomm-march.csv", GOOD.encode()),
    "MMT-C003": (NAME, b"\n\n"),
    "MMT-C004": (NAME, GOOD.replace("NC01", "NC\xe901").encode("latin-1")),
    "MMT-C005": (NAME, GOOD.split("\n", 1)[1].encode()),
    "MMT-C006": (NAME, GOOD.replace("|2|", "|two|").encode()),
    "MMT-C007": (NAME, GOOD.replace("HDR|NONCOMM", "HDR|NONCOMMS").encode()),
    "MMT-C008": (NAME, GOOD.replace("|BUILD", "|TEST").encode()),
    "MMT-C009": (NAME, GOOD.replace("HDR|NONCOMM", "HDR|MANEXCL").encode()),
    "MMT-C010": (NAME, GOOD.replace("TRL|1\n", "").encode()),
    "MMT-C011": (NAME, GOOD.replace("TRL|1\n", "TRL|1\nMSN000010|NC01|20240301|ADD\n").encode()),
    "MMT-C012": (NAME, GOOD.replace("TRL|1", "TRL|one").encode()),
    "MMT-C013": (NAME, GOOD.replace("TRL|1", "TRL|2").encode()),
    "MMT-C014": (NAME, GOOD.replace("TRL|1", "HDR|NONCOMM|3|20240301120000|BUILD\nTRL|1").encode()),
    "MMT-C015": (NAME.replace("BUILD", "PROD"), GOOD.replace("|BUILD", "|PROD").encode()),
    # The ledger's rules (the base state has NONCOMM sequence 1 loaded).
    "MMT-C016": ("NONCOMM_BUILD_20240101000001.csv", GOOD.encode()),
    "MMT-C017": (NAME, GOOD.replace("|2|", "|1|").encode()),
    "MMT-C019": (NAME, GOOD.replace("|2|", "|5|").encode()),
    "MMT-C020": (
        NAME,
        GOOD.replace("TRL|1", "CODES|NC01|20240301|ADD\n" * 11 + "TRL|12").encode(),
    ),
    "MMT-C021": (NAME, GOOD.replace("|ADD", "|ALL").encode()),
    "MMT-C022": (
        "DCCCAND_BUILD_20240301120000.csv",
        b"HDR|DCCCAND|1|20240301120000|BUILD\nMSN000001|1234567890123|DMC1|T1\nTRL|1\n",
    ),
}


@pytest.fixture
def loaded(tmp_path: Path) -> Place:
    """An environment with codes, a master list and two sequences of NONCOMM loaded."""
    place = Place(tmp_path / "home", "build")
    files = tmp_path / "loaded"
    files.mkdir()
    noncomm = [(f"MSN00000{n}", "NC01", "20240101", "ALL") for n in range(1, 5)]
    result = invoke(
        place,
        "load",
        str(codes_file(files)),
        str(make(files, "MMT", 1, [meter(f"MSN00000{n}") for n in range(1, 9)])),
        str(make(files, "NONCOMM", 1, noncomm)),
    )
    assert result.exit_code == 0, result.output
    return place


def invoke(place: Place, *arguments: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(place.root), "--env", place.env, *arguments])


def test_every_refusal_code_has_a_case() -> None:
    ledger_rule_only_reachable_by_a_forced_gap = {"MMT-C018"}  # see test_mmt_loading
    refusals = {code for code in CODES if code.startswith("MMT-C")}
    assert set(BROKEN) == refusals - (ledger_rule_only_reachable_by_a_forced_gap)


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_a_refused_file_changes_nothing_and_says_why(
    loaded: Place, tmp_path: Path, code: str
) -> None:
    name, content = BROKEN[code]
    path = tmp_path / "incoming" / name
    path.parent.mkdir()
    if content is not None:
        path.write_bytes(content)
    before = digest(loaded)
    result = invoke(loaded, "load", "--format", "json", str(path))
    assert result.exit_code == 1, result.output
    [report] = json.loads(result.output)["files"]
    assert (report["outcome"], report["code"]) == ("refused", code)
    assert report["errors"][0]["file"] == str(path)
    assert digest(loaded) == before
    with reading(loaded) as connection:
        [entry] = activity.entries(connection, limit=1)
        errors = activity.error_rows(connection, load_id=entry.load_id)
    assert (entry.outcome, entry.file) == ("refused", str(path))
    assert code in {error.code for error in errors}
    # The table form: one line naming the outcome, the file and the code.
    table = invoke(loaded, "load", str(path))
    assert table.exit_code == 1
    assert "refused" in table.output and path.name in table.output and code in table.output
    assert "Traceback" not in table.output
