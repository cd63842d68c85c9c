"""``mmtlite report``, ``history``, ``select``, ``export`` and ``status`` on a realistic world.

The world: ``generate --meters 3000 --seed 5`` and ``ingest``, then ``select --size 500 --tranche
T1``; for the full cycle, the DCC's answer (some rejections, some still awaited), ``export cs``,
CS acknowledgements (some FAIL), ``export mdm``, MDM acknowledgements (some FAIL) and a NONCOMM
ADD (the NONCOMM list's next sequence) for two tranche meters: conflicts.

Every figure of ``report --format json`` is checked against SQL of its own over the database
(and the tranche figures also against the answers the test sent), then the CSV and the HTML page
against the JSON. The page is opened in headless chromium (``--dump-dom``, ``--screenshot``):
skipped when chromium is not installed, unless ``MMTLITE_REQUIRE_BROWSER=1`` (CI), which makes a
missing browser a failure.

The commands run through click's ``CliRunner``, except where another process matters (the
writer lock).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mmtlite.lock import WriterLock
from mmtlite.paths import Place
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_helpers import make

REPO = Path(__file__).resolve().parents[1]
SOURCES = (".", "cli", "experiments")  # the folders that hold the packages
METERS = 3000
TRANCHE = "T1"
SIZE = 500
MIGRATION_DATE = "20240415"
OUTBOUND = Path("dcc", "system_data_build", "dcccand", "outbound")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDE = {"COLUMNS": "250"}  # rich tables do not wrap or cut cells


def mmtlite(home: Path, *arguments: str) -> Result:
    return CliRunner().invoke(
        cli, ["--home", str(home), *arguments], catch_exceptions=False, env=WIDE
    )


def ok(home: Path, *arguments: str) -> Result:
    result = mmtlite(home, *arguments)
    assert result.exit_code == 0, (arguments, result.output)
    return result


def as_json(home: Path, *arguments: str) -> Any:
    return json.loads(ok(home, *arguments, "--format", "json").stdout)


def query(home: Path, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(home / "mmt_build.sqlite")) as connection:
        return connection.execute(sql, parameters).fetchall()


def outbound_files(home: Path) -> set[str]:
    folder = home / OUTBOUND
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


# --- the worlds -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def selected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated, ingested, tranche T1 selected. Never changed: tests copy it."""
    home = tmp_path_factory.mktemp("selected") / "home"
    ok(home, "generate", "--meters", str(METERS), "--seed", "5")
    ok(home, "ingest", "--quiet")
    ok(home, "select", "--size", str(SIZE), "--tranche", TRANCHE)
    return home


@pytest.fixture
def fresh(selected: Path, tmp_path: Path) -> Path:
    """A copy of ``selected`` a test may change."""
    return Path(shutil.copytree(selected, tmp_path / "home"))


@dataclass(frozen=True)
class Cycle:
    """The full cycle's world and what the test sent in it."""

    home: Path
    accepted: int
    rejected: int
    cs_ok: int
    cs_fail: int
    mdm_ok: int
    mdm_fail: int
    conflicts: dict[str, int]  # "T1 NONCOMM <code>" -> meters
    alone: str  # the tranche meter given a NONCOMM code that is not site-wide
    with_mates: str  # the one given a site-wide code (its tranche site-mates conflict too)


def generated_codes(home: Path) -> dict[str, bool]:
    """The generated EXCLCODE list: code -> site-wide."""
    [path] = (home / "mmt" / "system_data_build" / "exclcode" / "inbound").glob("*.csv")
    return {
        fields[0]: fields[2] == "Y"
        for fields in (line.split("|") for line in path.read_text().splitlines()[1:-1])
    }


def generated_noncomm(home: Path) -> list[list[str]]:
    """The generated NONCOMM file's lines, split."""
    [path] = (home / "mmt" / "system_data_build" / "noncomm" / "inbound").glob("*.csv")
    return [line.split("|") for line in path.read_text().splitlines()]


def noncomm_codes(home: Path) -> list[str]:
    """The codes the generated NONCOMM list uses, in order."""
    return sorted({fields[1] for fields in generated_noncomm(home)[1:-1]})


def next_noncomm_sequence(home: Path) -> int:
    """The sequence after the generated NONCOMM file's (its header's third field)."""
    return int(generated_noncomm(home)[0][2]) + 1


@pytest.fixture(scope="module")
def cycle(selected: Path, tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    base = tmp_path_factory.mktemp("cycle")
    home = Path(shutil.copytree(selected, base / "home"))
    files = base / "in"
    files.mkdir()
    tranche = [
        msn
        for (msn,) in query(
            home, "SELECT msn FROM tranche_meters WHERE tranche_id = ? ORDER BY position", TRANCHE
        )
    ]
    assert len(tranche) == SIZE
    # The DCC answers for 450 meters, every 25th rejected; 50 wait.
    answered = tranche[:450]
    rejected = answered[::25]
    dcc = [
        (msn, TRANCHE, *(("REJECTED", "R01") if msn in rejected else ("ACCEPTED", "")))
        for msn in answered
    ]
    ok(home, "load", str(make(files, "DCCRESP", 1, dcc)))
    ok(home, "export", "cs", "--tranche", TRANCHE)
    noted = [
        msn
        for (msn,) in query(
            home, "SELECT msn FROM tranche_meters WHERE cs_note IS NOT NULL ORDER BY position"
        )
    ]
    # CS answers for 400 of the notes, every 10th a FAIL.
    cs = [(msn, TRANCHE, "FAIL" if n % 10 == 0 else "OK", "x") for n, msn in enumerate(noted[:400])]
    ok(home, "load", str(make(files, "CSRESP", 1, cs)))
    ok(home, "export", "mdm", "--tranche", TRANCHE, "--migration-date", MIGRATION_DATE)
    notified = [
        msn
        for (msn,) in query(
            home, "SELECT msn FROM tranche_meters WHERE mdm_note IS NOT NULL ORDER BY position"
        )
    ]
    # MDM answers for 300 of the notifications, every 7th a FAIL.
    mdm = [
        (msn, TRANCHE, "FAIL" if n % 7 == 0 else "OK", "") for n, msn in enumerate(notified[:300])
    ]
    ok(home, "load", str(make(files, "MDMRESP", 1, mdm)))
    # Conflicts: a NONCOMM ADD for a tranche meter, with a code that is not site-wide, and for
    # one of a site with several tranche meters, with a site-wide code (they all conflict).
    codes = generated_codes(home)
    used = noncomm_codes(home)
    narrow = next(code for code in used if not codes[code])
    wide = next(code for code in used if codes[code])
    sites = query(
        home,
        "SELECT site_id, min(msn), count(*) FROM tranche_meters WHERE tranche_id = ? "
        "GROUP BY site_id ORDER BY count(*) DESC, site_id",
        TRANCHE,
    )
    big_site, with_mates, mates = sites[0]
    assert mates > 1
    alone = next(msn for site, msn, count in reversed(sites) if site != big_site and count == 1)
    sequence = next_noncomm_sequence(home)
    assert sequence == 2
    added = [(alone, narrow, "20240301", "ADD"), (with_mates, wide, "20240301", "ADD")]
    ok(home, "load", str(make(files, "NONCOMM", sequence, added)))
    return Cycle(
        home,
        accepted=len(answered) - len(rejected),
        rejected=len(rejected),
        cs_ok=sum(row[2] == "OK" for row in cs),
        cs_fail=sum(row[2] == "FAIL" for row in cs),
        mdm_ok=sum(row[2] == "OK" for row in mdm),
        mdm_fail=sum(row[2] == "FAIL" for row in mdm),
        conflicts={f"{TRANCHE} NONCOMM {narrow}": 1, f"{TRANCHE} NONCOMM {wide}": mates},
        alone=alone,
        with_mates=with_mates,
    )


@pytest.fixture(scope="module")
def made(cycle: Cycle) -> dict[str, Any]:
    """``report --format json`` of the full cycle."""
    report: dict[str, Any] = as_json(cycle.home, "report")
    return report


# --- figures: where each number is in the JSON ------------------------------------------------


def entry_key(section: str, entry: Mapping[str, Any]) -> str:
    """How an entry of a list of the report is named in a figure's path."""
    if section == "tranches":
        return str(entry["tranche_id"])
    first = "tranche_id" if section == "conflicts" else "status"
    return f"{entry[first]} {entry['reason']} {entry['code']}"


def figures(report: Mapping[str, Any]) -> dict[str, float]:
    """Every number of the JSON report by its path (``by_status.0S``, ``exclusions.0Z NONCOMM
    NC01.via_site``, ``tranches.T1.dcc.accepted``, ``conflicts.T1 NONCOMM NC01``): found by
    walking the JSON, so a number added to it is a figure the CSV and the page must show."""
    found: dict[str, float] = {}

    def walk(path: str, value: object) -> None:
        if isinstance(value, (bool, str)) or value is None:
            return
        if isinstance(value, (int, float)):
            assert path not in found, path
            found[path] = value
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{path}.{key}" if path else key, inner)
        else:
            assert isinstance(value, list), (path, value)
            for n, entry in enumerate(value):
                key = entry_key(path, entry) if isinstance(entry, dict) else str(n)
                walk(f"{path}.{key}", entry)

    walk("", report)
    # A conflict has one number, its meters: the path names the conflict (no ".meters").
    for path in [path for path in found if path.startswith("conflicts.")]:
        assert path.endswith(".meters"), path
        found[path.removesuffix(".meters")] = found.pop(path)
    return found


# Figures of the JSON report the CSV and the page leave out: none.
def left_out_of_csv(path: str) -> bool:
    return False


def left_out_of_page(path: str) -> bool:
    return False


# --- 1. the JSON report against SQL -----------------------------------------------------------


def test_report_status_and_exclusions_agree_with_sql(cycle: Cycle, made: dict[str, Any]) -> None:
    home = cycle.home
    counted = dict(query(home, "SELECT status, count(*) FROM meters GROUP BY status"))
    assert made["env"] == "build"
    assert made["meters"] == sum(counted.values()) == METERS
    assert {key: n for key, n in made["by_status"].items() if n} == counted
    assert set(made["by_status"]) >= {"0", "0S", "0Z", "1", "1R", "1a", "2"}
    assert made["by_status"] == as_json(home, "status")["by_status"]
    # Each excluded or held meter once, under its cause; via_site: a site-mate's cause.
    expected = {
        f"{status} {reason} {code}": (meters, direct, via_site)
        for status, reason, code, meters, direct, via_site in query(
            home,
            "SELECT status, reason, code, count(*), sum(via IS NULL), sum(via IS NOT NULL) "
            "FROM meters WHERE status IN ('0Z', '0') GROUP BY 1, 2, 3",
        )
    }
    got = {
        entry_key("exclusions", e): (e["meters"], e["direct"], e["via_site"])
        for e in made["exclusions"]
    }
    assert got == expected
    assert len(got) == len(made["exclusions"])  # each group once
    for status in ("0Z", "0"):
        in_groups = sum(e["meters"] for e in made["exclusions"] if e["status"] == status)
        assert in_groups == made["by_status"][status]
    site_wide = {
        code: wide == "Y" for code, wide in query(home, "SELECT code, site_wide FROM list_exclcode")
    }
    for e in made["exclusions"]:
        assert e["site_share"] == pytest.approx(e["via_site"] / e["meters"], abs=5e-5)
        wide = e["reason"] in ("EPCL", "DMCT", "TODO") or site_wide.get(e["code"], False)
        assert e["site_wide"] == wide, e
        if not wide:
            assert e["via_site"] == 0, e
    # The world is realistic: site propagation, device lists, holds all show.
    assert any(e["via_site"] for e in made["exclusions"])
    assert {e["reason"] for e in made["exclusions"]} >= {"NONCOMM", "EPCL", "DMCT", "TODO"}


def test_report_tranche_progress_agrees_with_sql_and_the_answers_sent(
    cycle: Cycle, made: dict[str, Any]
) -> None:
    home = cycle.home
    [tranche] = made["tranches"]
    assert (tranche["tranche_id"], tranche["requested"], tranche["meters"]) == (TRANCHE, SIZE, SIZE)
    [(sites,)] = query(home, "SELECT count(DISTINCT site_id) FROM tranche_meters")
    assert tranche["sites"] == sites
    by_status = dict(
        query(
            home,
            "SELECT m.status, count(*) FROM tranche_meters AS t JOIN meters AS m USING (msn) "
            "WHERE t.tranche_id = ? GROUP BY 1",
            TRANCHE,
        )
    )
    assert {key: n for key, n in tranche["by_status"].items() if n} == by_status

    def count(where: str) -> int:
        """The tranche's meters (t) that ``where`` holds for."""
        sql = f"SELECT count(*) FROM tranche_meters AS t WHERE t.tranche_id = ? AND {where}"
        [(found,)] = query(home, sql, TRANCHE)
        return int(found)

    def answer(table: str, condition: str = "1") -> str:
        return (
            f"EXISTS (SELECT 1 FROM {table} AS r WHERE r.msn = t.msn "
            f"AND r.tranche_id = t.tranche_id AND {condition})"
        )

    expected = {
        "dcc": {
            "accepted": count(answer("list_dccresp", "r.decision = 'ACCEPTED'")),
            "rejected": count(answer("list_dccresp", "r.decision = 'REJECTED'")),
            "awaiting": count(f"NOT {answer('list_dccresp')}"),
        },
        "cs": {
            "noted": count("t.cs_note IS NOT NULL"),
            "ok": count(answer("list_csresp", "r.result = 'OK'")),
            "fail": count(answer("list_csresp", "r.result = 'FAIL'")),
            "awaiting": count(f"t.cs_note IS NOT NULL AND NOT {answer('list_csresp')}"),
        },
        "mdm": {
            "notified": count("t.mdm_note IS NOT NULL"),
            "ok": count(answer("list_mdmresp", "r.result = 'OK'")),
            "fail": count(answer("list_mdmresp", "r.result = 'FAIL'")),
            "awaiting": count(f"t.mdm_note IS NOT NULL AND NOT {answer('list_mdmresp')}"),
        },
    }
    assert {system: tranche[system] for system in ("dcc", "cs", "mdm")} == expected
    # And from what was sent: the notes went to the accepted meters, the notifications to the
    # acknowledged ones.
    noted, notified = cycle.accepted, cycle.cs_ok
    assert tranche["dcc"] == {
        "accepted": cycle.accepted,
        "rejected": cycle.rejected,
        "awaiting": SIZE - cycle.accepted - cycle.rejected,
    }
    assert tranche["cs"] == {
        "noted": noted,
        "ok": cycle.cs_ok,
        "fail": cycle.cs_fail,
        "awaiting": noted - cycle.cs_ok - cycle.cs_fail,
    }
    assert tranche["mdm"] == {
        "notified": notified,
        "ok": cycle.mdm_ok,
        "fail": cycle.mdm_fail,
        "awaiting": notified - cycle.mdm_ok - cycle.mdm_fail,
    }
    assert tranche["by_status"] == {
        "1": SIZE - cycle.rejected - cycle.cs_ok,
        "1R": cycle.rejected,
        "1a": cycle.cs_ok - cycle.mdm_ok,
        "2": cycle.mdm_ok,
    }
    assert all(value for system in expected.values() for value in system.values())
    assert [name.split("_")[0] for name in tranche["files"]] == ["DCCCAND", "CSNOTE", "MDMNOTIF"]
    written = {
        name for (name,) in query(home, "SELECT name FROM outbound WHERE tranche_id = ?", TRANCHE)
    }
    assert set(tranche["files"]) == written


def test_a_noncomm_add_for_tranche_meters_is_a_conflict(cycle: Cycle, made: dict[str, Any]) -> None:
    got = {entry_key("conflicts", c): c["meters"] for c in made["conflicts"]}
    assert got == cycle.conflicts
    expected = {
        f"{tranche} {reason} {code}": count
        for tranche, reason, code, count in query(
            cycle.home,
            "SELECT t.tranche_id, m.reason, m.code, count(*) FROM meters AS m "
            "JOIN tranche_meters AS t USING (msn) WHERE m.reason IS NOT NULL GROUP BY 1, 2, 3",
        )
    }
    assert got == expected
    [tranche] = made["tranches"]
    assert tranche["conflicts"] == sum(cycle.conflicts.values())
    # They keep their tranche status: conflicts are not exclusions.
    statuses = query(
        cycle.home, "SELECT status FROM meters WHERE msn IN (?, ?)", cycle.alone, cycle.with_mates
    )
    assert {status for (status,) in statuses} <= {"1", "1R", "1a", "2"}
    assert sum(made["by_status"][s] for s in ("1", "1R", "1a", "2")) == SIZE


# --- 2. CSV -----------------------------------------------------------------------------------


def csv_figures(text: str) -> tuple[list[str], dict[str, float]]:
    """The CSV's header and its figures, by the path of the same figure in the JSON."""
    rows = list(csv.reader(io.StringIO(text)))
    found: dict[str, float] = {}
    for section, group, measure, value in rows[1:]:
        if section == "meters":
            path = "meters"
        elif section == "status":
            assert measure == "meters"
            path = f"by_status.{group}"
        elif section == "conflicts":
            assert measure == "meters"
            path = f"conflicts.{group}"
        elif section == "tranches" and measure.startswith("status "):
            path = f"tranches.{group}.by_status.{measure.removeprefix('status ')}"
        else:
            path = f"{section}.{group}.{measure.replace(' ', '.')}"
        assert path not in found, path
        found[path] = float(value)
    return rows[0], found


def test_report_csv_has_the_json_figures(cycle: Cycle, made: dict[str, Any]) -> None:
    result = ok(cycle.home, "report", "--format", "csv")
    header, found = csv_figures(result.stdout)
    assert header == ["section", "group", "measure", "value"]
    expected = figures(made)
    assert all(found[path] == expected[path] for path in found), {
        path: (value, expected.get(path))
        for path, value in found.items()
        if value != expected.get(path)
    }
    missing = {path for path in expected if path not in found and not left_out_of_csv(path)}
    assert not missing
    assert set(found) <= set(expected)


def test_report_csv_has_the_requested_size_of_each_tranche(
    cycle: Cycle, made: dict[str, Any]
) -> None:
    _, found = csv_figures(ok(cycle.home, "report", "--format", "csv").stdout)
    assert found[f"tranches.{TRANCHE}.requested"] == SIZE


# --- 3. HTML ----------------------------------------------------------------------------------


class Figures(HTMLParser):
    """The ``data-figure`` elements of a page: path -> (data-value, the text shown)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, tuple[str, str]] = {}
        self.duplicates: list[str] = []
        self.open: list[tuple[str, str, str, list[str]]] = []  # tag, path, value, text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        path = given.get("data-figure")
        if path is not None:
            self.open.append((tag, path, given.get("data-value") or "", []))
        elif self.open:
            self.open.append((tag, "", "", []))

    def handle_data(self, data: str) -> None:
        for *_, text in self.open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            return
        open_tag, path, value, text = self.open.pop()
        assert open_tag == tag, (open_tag, tag)
        if path:
            if path in self.found:
                self.duplicates.append(path)
            self.found[path] = (value, "".join(text))


def page_figures(html: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
    parser = Figures()
    parser.feed(html)
    parser.close()
    return parser.found, parser.duplicates


def chromium() -> str:
    """The browser, or skip (fail when ``MMTLITE_REQUIRE_BROWSER=1``)."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    if os.environ.get("MMTLITE_REQUIRE_BROWSER") == "1":
        pytest.fail("MMTLITE_REQUIRE_BROWSER=1 but no chromium is installed")
    pytest.skip("chromium is not installed (set MMTLITE_REQUIRE_BROWSER=1 to require it)")


def browse(browser: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}"]
    return subprocess.run([*command, *arguments], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page(cycle: Cycle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``report --html`` of the full cycle (written along with the JSON on stdout)."""
    path = tmp_path_factory.mktemp("page") / "migration.html"
    result = ok(cycle.home, "report", "--format", "json", "--html", str(path))
    assert json.loads(result.stdout)["meters"] == METERS  # stdout stays pure JSON
    return path


@pytest.fixture(scope="module")
def dom(page: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page as chromium sees it (``--dump-dom``)."""
    browser = chromium()
    done = browse(browser, tmp_path_factory.mktemp("profile"), "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


def test_report_html_in_a_browser_shows_every_figure_of_the_json(
    dom: str, made: dict[str, Any]
) -> None:
    found, duplicates = page_figures(dom)
    assert not duplicates
    expected = figures(made)
    # Everything the page shows is a figure of the JSON, with its value, shown as such...
    assert set(found) <= set(expected), set(found) - set(expected)
    for path, (value, text) in found.items():
        assert float(value) == expected[path], (path, value, expected[path])
        if ".site_share" in path:
            assert text.endswith("%") and abs(int(text[:-1]) - float(value) * 100) <= 0.5, text
        else:
            assert text == f"{int(value):,}", (path, value, text)
    # ... and every figure of the JSON is on the page.
    missing = sorted(path for path in expected if path not in found and not left_out_of_page(path))
    assert not missing
    assert len(found) > 100  # the realistic world: many exclusion groups
    assert {f"conflicts.{entry_key('conflicts', c)}" for c in made["conflicts"]} <= set(found)


def test_report_html_shows_each_tranches_status_counts_and_requested_size(
    dom: str, made: dict[str, Any]
) -> None:
    found, _ = page_figures(dom)
    expected = figures(made)
    assert not sorted(path for path in expected if path not in found)


def test_report_html_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    lower = html.lower()
    urls = lower.count("http://") + lower.count("https://")
    assert urls == lower.count('xmlns="http://www.w3.org/2000/svg"') > 0
    for banned in ("<script", "<link", "<iframe", "<img", "<object", "<embed", "@import", "url("):
        assert banned not in lower, banned
    assert " src=" not in lower and " srcset=" not in lower and " href=" not in lower
    assert lower.startswith("<!doctype html>") and '<meta charset="utf-8">' in lower


def png_pixels_summary(data: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct filtered scanline bytes of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, width, height = 8, b"", 0, 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) % height == 0 and len(raw) // height > width  # whole scanlines
    return width, height, len(set(raw))


def test_report_html_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    browser = chromium()
    shot, blank_shot = tmp_path / "page.png", tmp_path / "blank.png"
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    for source, target in ((page, shot), (blank, blank_shot)):
        done = browse(
            browser,
            tmp_path / "profile",
            f"--screenshot={target}",
            "--window-size=1200,1600",
            source.as_uri(),
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    width, height, distinct = png_pixels_summary(shot.read_bytes())
    assert (width, height) == (1200, 1600)
    _, _, blank_distinct = png_pixels_summary(blank_shot.read_bytes())
    # Text, cards and coloured bars: many times the bytes and values of an empty page.
    assert shot.stat().st_size > 5 * blank_shot.stat().st_size
    assert distinct > 100 and distinct > 5 * blank_distinct


# A4 landscape with the page's 10 mm margins: 277 mm at 96 CSS pixels to the inch.
A4_LANDSCAPE_PX = round(277 / 25.4 * 96)

# Measures the laid-out page into an attribute that --dump-dom shows. With ``printing``, the
# page's print rules are applied to the screen first (headless chromium lays out for the screen).
_MEASURE = """<script>
if (%s) {
  let rules = '';
  for (const sheet of document.styleSheets) for (const rule of sheet.cssRules)
    if (rule.media && rule.media.mediaText.includes('print'))
      for (const inner of rule.cssRules) rules += inner.cssText;
  const style = document.createElement('style');
  style.textContent = rules;
  document.head.appendChild(style);
  document.body.dataset.printRules = rules.length;
}
window.addEventListener('load', () => {
  const right = (e) => Math.ceil(e.getBoundingClientRect().right);
  const cells = [...document.querySelectorAll('table.compact th, table.compact td')];
  document.body.dataset.measure = JSON.stringify({
    page: document.documentElement.scrollWidth,
    window: document.documentElement.clientWidth,
    tables: [...document.querySelectorAll('table')].map(right),
    cells: Math.max(...cells.map(right)),
    columns: document.querySelector('table.compact tr:nth-child(2)').children.length,
  });
});
</script>"""


def laid_out(page: Path, folder: Path, width: int, printing: bool) -> dict[str, Any]:
    measured = folder / "measured.html"
    script = _MEASURE % ("true" if printing else "false")
    measured.write_text(page.read_text().replace("</body>", f"{script}</body>"))
    done = browse(
        chromium(),
        folder / "profile",
        f"--window-size={width},900",
        "--virtual-time-budget=5000",
        "--dump-dom",
        measured.as_uri(),
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = done.stdout.decode()
    start = dom.index('data-measure="') + len('data-measure="')
    return dict(json.loads(dom[start : dom.index('"', start)].replace("&quot;", '"')))


@pytest.mark.parametrize(
    ("width", "printing"), [(1400, False), (A4_LANDSCAPE_PX, True)], ids=["1400px", "A4"]
)
def test_report_html_tables_fit_a_1400px_window_and_a4_landscape(
    page: Path, tmp_path: Path, width: int, printing: bool
) -> None:
    if printing:
        assert "@page { size: A4 landscape; margin: 10mm; }" in page.read_text()
    laid = laid_out(page, tmp_path, width, printing)
    assert laid["page"] <= laid["window"], laid  # no sideways scrolling, nothing cut in print
    assert max(laid["tables"]) <= laid["window"] and laid["cells"] <= laid["window"], laid
    # tranche, selected, asked, meters, 4 statuses, sites, DCC 3, CS 4, MDM 4, conflicts
    assert laid["columns"] == 21


def test_report_html_shows_what_each_code_means(dom: str, made: dict[str, Any]) -> None:
    described = [row for row in made["exclusions"] if row["description"]]
    assert len(described) == len(made["exclusions"])  # codes, devices and to-dos alike
    for row in described:
        assert f"<td>{row['description']}</td>" in dom.replace("&amp;", "&"), row


# --- 4. history -------------------------------------------------------------------------------


def test_history_of_a_meter_excluded_through_a_site_mate(cycle: Cycle) -> None:
    home = cycle.home
    msn, via, code, site = query(
        home,
        "SELECT msn, via, code, site_id FROM meters WHERE status = '0Z' AND reason = 'NONCOMM' "
        "AND via IS NOT NULL AND via NOT IN (SELECT msn FROM tranche_meters) ORDER BY msn LIMIT 1",
    )[0]
    [(noncomm_file,)] = query(
        home,
        "SELECT l.name FROM list_noncomm AS x JOIN ledger AS l USING (file_id) WHERE x.msn = ?",
        via,
    )
    assert noncomm_file == "NONCOMM_BUILD_20240101090004.csv"  # the generated list
    story = as_json(home, "history", msn)
    assert (story["msn"], story["status"], story["site_id"]) == (msn, "0Z", site)
    assert "NONCOMM" in story["cause"] and code in story["cause"] and via in story["cause"]
    assert story["site_mates"][via] == "0Z"
    last = story["events"][-1]
    assert (last["status"], last["reason"], last["code"], last["via"]) == (
        "0Z",
        "NONCOMM",
        code,
        via,
    )
    assert last["source"] == noncomm_file
    assert last["trigger"] == f"load {noncomm_file}"
    # The site-mate's own story holds the fact and its file.
    mate = as_json(home, "history", via)
    [fact] = [fact for fact in mate["facts"] if fact["category"] == "NONCOMM"]
    assert (fact["values"]["reason_code"], fact["file"]) == (code, noncomm_file)
    table = ok(home, "history", msn).stdout
    assert msn in table and via in table and noncomm_file in table and "0S -> 0Z" in table


def test_history_of_a_selected_meter(cycle: Cycle) -> None:
    home = cycle.home
    [(msn,)] = query(
        home,
        "SELECT msn FROM meters WHERE status = '2' AND reason IS NULL ORDER BY msn LIMIT 1",
    )
    story = as_json(home, "history", msn)
    assert (story["status"], story["tranche_id"]) == ("2", TRANCHE)
    events = story["events"]
    changes = [(e["old_status"], e["status"]) for e in events]
    assert changes == [(None, "0S"), ("0S", "1"), ("1", "1a"), ("1a", "2")]
    assert events[0]["trigger"].startswith("load MMT_BUILD_")
    assert (events[1]["trigger"], events[1]["tranche_id"]) == (
        f"select --tranche {TRANCHE}",
        TRANCHE,
    )
    assert events[2]["source"].startswith("CSRESP_") and events[3]["source"].startswith("MDMRESP_")
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    table = ok(home, "history", msn).stdout
    for text in ("new -> 0S", "0S -> 1", f"select --tranche {TRANCHE}", "1a -> 2"):
        assert text in table, text
    assert table.index("new -> 0S") < table.index("0S -> 1") < table.index("1a -> 2")


def test_history_of_an_unknown_meter_exits_1_with_one_line(cycle: Cycle) -> None:
    for output in ("table", "json"):
        result = mmtlite(cycle.home, "history", "NOSUCHMETER1", "--format", output)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and "NOSUCHMETER1" in result.stderr


# --- 5. select and export ---------------------------------------------------------------------


def test_select_reusing_a_tranche_id_exits_1_and_writes_nothing(fresh: Path) -> None:
    before = outbound_files(fresh)
    tranches = query(fresh, "SELECT * FROM tranches")
    result = mmtlite(fresh, "select", "--size", "10", "--tranche", TRANCHE)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and TRANCHE in result.stderr
    assert outbound_files(fresh) == before
    assert query(fresh, "SELECT * FROM tranches") == tranches


def test_select_json_names_the_file_written(fresh: Path) -> None:
    before = outbound_files(fresh)
    selection = as_json(fresh, "select", "--size", "100", "--tranche", "T2")
    [new] = outbound_files(fresh) - before
    written = selection["file"]
    assert (written["name"], written["category"], written["tranche_id"]) == (new, "DCCCAND", "T2")
    assert Path(written["path"]) == fresh / OUTBOUND / new
    lines = Path(written["path"]).read_text().splitlines()
    assert lines[0].startswith("HDR|DCCCAND|2|") and lines[-1] == f"TRL|{selection['meters']}"
    assert written["rows"] == selection["meters"] == len(lines) - 2
    assert 0 < selection["meters"] <= 100
    assert all(line.endswith("|T2") for line in lines[1:-1])
    # The report and status now count them.
    assert [t["tranche_id"] for t in as_json(fresh, "report")["tranches"]] == [TRANCHE, "T2"]
    assert as_json(fresh, "status")["by_status"]["1"] == SIZE + selection["meters"]


def test_export_mdm_without_a_migration_date_is_a_usage_error(fresh: Path) -> None:
    result = mmtlite(fresh, "export", "mdm", "--tranche", TRANCHE)
    assert result.exit_code == 2
    assert "--migration-date" in result.stderr


def test_export_cs_with_nothing_to_send_exits_1_and_says_why(fresh: Path) -> None:
    before = query(fresh, "SELECT name FROM outbound")
    result = mmtlite(fresh, "export", "cs", "--tranche", TRANCHE)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "nothing to send" in result.stderr
    assert f"{SIZE:,} awaiting the DCC's decision" in result.stderr  # no DCC answer yet
    assert query(fresh, "SELECT name FROM outbound") == before


def run_mmtlite(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``mmtlite`` in a process of its own."""
    program = (
        "import sys; from nem2cdr_cli.mmtlite_commands import main; sys.argv[0] = 'mmtlite'; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", program, "--home", str(home), *arguments],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / part) for part in SOURCES)},
    )


def test_select_exits_3_while_another_process_holds_the_writer_lock(fresh: Path) -> None:
    before = outbound_files(fresh), query(fresh, "SELECT * FROM tranches")
    with WriterLock(Place(fresh, "build").lock, "test"):
        started = time.monotonic()
        result = run_mmtlite(fresh, "select", "--size", "10", "--tranche", "T2")
        seconds = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert seconds < 10  # at once, not after waiting for the lock
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert (
        result.stderr.startswith("mmtlite: busy:") and f"test, pid {os.getpid()}" in result.stderr
    )
    assert (outbound_files(fresh), query(fresh, "SELECT * FROM tranches")) == before
    # Free again: the same command goes through.
    assert run_mmtlite(fresh, "select", "--size", "10", "--tranche", "T2").returncode == 0
