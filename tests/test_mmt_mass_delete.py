"""One mass-delete guard for every way of deleting (docs/mmtlite.md, "Loading: exactly once"): a
file whose ALL list leaves out, or whose REMOVE rows name, more than ``max_delete`` of its list is
refused with the counts (``MMT-C021``) and changes nothing, unless forced; a few REMOVE rows in a
small list are routine."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mmtlite.activity import LOADED, REFUSED
from mmtlite.applying import REMOVE_ALLOWANCE
from mmtlite.codes import C_MASS_DELETE
from mmtlite.loader import Options, load
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_helpers import Files, digest, meter, rows_of

METERS = 50


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """A master list of 50 meters, loaded."""
    made = Files(tmp_path)
    master = made.path("MMT", [meter(f"MSN{n:04d}", "ADD", site=f"S{n}") for n in range(METERS)])
    assert load(made.place, [master]).clean
    return made


def removing(files: Files, count: int) -> Path:
    """The next MMT file: REMOVE rows (the key only) for the first ``count`` meters."""
    return files.path("MMT", [(f"MSN{n:04d}", "", "", "", "", "", "REMOVE") for n in range(count)])


def test_remove_rows_for_every_meter_are_refused_with_the_counts(files: Files) -> None:
    before = digest(files.place)
    result = load(files.place, [removing(files, METERS)]).files[0]
    assert (result.outcome, result.code) == (REFUSED, C_MASS_DELETE)
    assert "its REMOVE rows would remove 50 of 50 MMT rows (100%), more than 20%" in result.message
    assert digest(files.place) == before
    assert len(rows_of(files.place, "MMT")) == METERS


def test_the_cli_refuses_an_emptying_remove_file_in_one_line_and_force_lets_it_through(
    files: Files,
) -> None:
    path = removing(files, METERS)
    home = str(files.place.root)
    refused = CliRunner().invoke(cli, ["--home", home, "load", "-q", str(path)])
    assert refused.exit_code == 1
    assert "MMT-C021: its REMOVE rows would remove 50 of 50 MMT rows (100%)" in refused.output
    forced = CliRunner().invoke(cli, ["--home", home, "load", "-q", "--force", str(path)])
    assert forced.exit_code == 0, forced.output
    assert "mass delete forced: 50 of 50 MMT rows (100%) removed" in forced.output
    assert rows_of(files.place, "MMT") == []


def test_the_share_is_the_same_limit_as_a_complete_lists(files: Files) -> None:
    over = removing(files, 11)  # 22% of 50: over 20, and over the allowance of 10 rows
    assert load(files.place, [over]).files[0].code == C_MASS_DELETE
    let = load(files.place, [over], Options(max_delete=0.25)).files[0]
    assert let.outcome == LOADED and let.counts.removed == 11


def test_a_few_remove_rows_in_a_small_list_are_routine(files: Files) -> None:
    # 10 of 50 is 20%, not more; then 10 of the 40 left is 25%, but within the allowance.
    assert load(files.place, [removing(files, REMOVE_ALLOWANCE)]).clean
    rest = [(f"MSN{n:04d}", "", "", "", "", "", "REMOVE") for n in range(10, 20)]
    assert load(files.place, [files.path("MMT", rest)]).clean
    assert len(rows_of(files.place, "MMT")) == METERS - 20
