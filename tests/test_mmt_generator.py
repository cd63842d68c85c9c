"""The mmtlite generator: every file loads clean, the same seed gives the same bytes, and the data
looks like a SMETS1 estate (sites of one to four meters, valid MPANs, codes the loader knows)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date
from itertools import groupby
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmtlite.categories import CATEGORIES
from mmtlite.fileformat import ParsedFile, parse
from mmtlite.generator import GeneratedFile, generate, write_into_inbound, write_set
from mmtlite.paths import Place

ORDER = ["EXCLCODE", "DMCT", "EPCL", "MMT", "NONCOMM", "MANEXCL", "TODO", "STATUSCHG"]
MPAN_WEIGHTS = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)


def parsed(files: list[GeneratedFile], env: str = "build") -> dict[str, ParsedFile]:
    """Every file parsed as the loader would, after checking it parsed clean."""
    result = {}
    for file in files:
        found = parse(file.content, file.name, env=env)
        assert found.control_failures == [], file.name
        assert found.row_errors == [], file.name
        assert found.category == file.category
        assert found.sequence == 1
        assert len(found.rows) == found.detail_rows == file.rows
        assert all(row.action == "ALL" for row in found.rows)
        result[file.category] = found
    return result


def values(found: ParsedFile, column: str) -> list[str]:
    spec = CATEGORIES[found.category or ""]
    position = spec.column_names.index(column)
    return [row.values[position] for row in found.rows]


def mpan_check_digit(first_twelve: str) -> int:
    return sum(int(d) * w for d, w in zip(first_twelve, MPAN_WEIGHTS, strict=True)) % 11 % 10


def shape(msn: str) -> str:
    return re.sub("[A-Z]", "A", re.sub("[0-9]", "9", msn))


@pytest.fixture(scope="module")
def estate() -> dict[str, ParsedFile]:
    return parsed(generate(20_000, seed=11))


@pytest.fixture(scope="module")
def meters(estate: dict[str, ParsedFile]) -> list[tuple[str, ...]]:
    return [row.values for row in estate["MMT"].rows]


# -- well formed -------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["build", "sogl", "prod"])
@pytest.mark.parametrize("count", [0, 1, 7, 1000])
def test_every_file_parses_clean_for_its_environment(count: int, env: str) -> None:
    files = generate(count, seed=3, env=env)
    assert [file.category for file in files] == ORDER
    found = parsed(files, env=env)
    assert len(found["MMT"].rows) == count
    assert all(file.name.split("_")[1] == env.upper() for file in files)


@settings(max_examples=30, deadline=None)
@given(
    count=st.integers(0, 120),
    seed=st.integers(0, 2**64),
    env=st.sampled_from(["build", "sogl", "prod", "BUILD"]),
)
def test_any_seed_and_size_gives_clean_files_with_unique_meters(
    count: int, seed: int, env: str
) -> None:
    found = parsed(generate(count, seed=seed, env=env), env=env)
    msns = values(found["MMT"], "msn")
    assert len(msns) == len(set(msns)) == count
    for category in ("NONCOMM", "MANEXCL", "TODO", "STATUSCHG"):
        listed = values(found[category], "msn")
        assert len(listed) == len(set(listed))
        assert set(listed) <= set(msns)


def test_no_meters_still_gives_every_file_with_header_and_trailer() -> None:
    files = generate(0)
    found = parsed(files)
    assert {category: file.rows for category, file in zip(ORDER, files, strict=True)} == {
        "EXCLCODE": 12,
        "DMCT": len(found["DMCT"].rows),
        "EPCL": len(found["EPCL"].rows),
        "MMT": 0,
        "NONCOMM": 0,
        "MANEXCL": 0,
        "TODO": 0,
        "STATUSCHG": 0,
    }
    assert files[3].content == b"HDR|MMT|1|20240101090003|BUILD\nTRL|0\n"


def test_each_file_is_stamped_one_second_after_the_one_before() -> None:
    files = generate(5, created="20231231235957")
    stamps = [file.name.split("_")[2].removesuffix(".csv") for file in files]
    assert stamps == [
        "20231231235957",
        "20231231235958",
        "20231231235959",
        "20240101000000",
        "20240101000001",
        "20240101000002",
        "20240101000003",
        "20240101000004",
    ]
    assert [parse(f.content, f.name).created for f in files] == stamps


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"meters": -1}, "meters"),
        ({"meters": 5, "created": "2024010109"}, "created"),
        ({"meters": 5, "created": "20240230090000"}, "created"),
        ({"meters": 5, "env": "test"}, "environment"),
    ],
)
def test_wrong_arguments_are_the_callers_mistake(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**arguments)  # type: ignore[arg-type]


# -- deterministic -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() -> None:
    first = generate(500, seed=7)
    assert first == generate(500, seed=7)
    other = generate(500, seed=8)
    for category in ("DMCT", "MMT", "NONCOMM", "MANEXCL", "TODO", "STATUSCHG"):
        mine = next(file for file in first if file.category == category)
        theirs = next(file for file in other if file.category == category)
        assert mine.content != theirs.content, category


# -- realistic ---------------------------------------------------------------------------------


def test_sites_have_one_to_four_meters_mostly_one_or_two(meters: list[tuple[str, ...]]) -> None:
    fuels: dict[str, list[str]] = defaultdict(list)
    for _, site, _, fuel, *_ in meters:
        fuels[site].append(fuel)
    sizes = Counter(len(site) for site in fuels.values())
    assert set(sizes) == {1, 2, 3, 4}
    assert (sizes[1] + sizes[2]) / len(fuels) > 0.9
    assert sizes[3] > sizes[4] > 0
    dual_fuel = sum(1 for site in fuels.values() if sorted(site) == ["E", "G"])
    assert dual_fuel / sizes[2] > 0.8
    assert all("E" in site for site in fuels.values() if len(site) > 2)
    # Grouped by site in the file, but the file is sorted neither by MSN nor by site.
    runs = [site for site, _ in groupby(meter[1] for meter in meters)]
    assert len(runs) == len(fuels)
    msns = [meter[0] for meter in meters]
    assert msns != sorted(msns)
    assert runs != sorted(runs)


def test_both_fuels_with_distinct_looking_serials(meters: list[tuple[str, ...]]) -> None:
    shapes: dict[str, set[str]] = defaultdict(set)
    for msn, _, _, fuel, *_ in meters:
        shapes[fuel].add(shape(msn))
    assert set(shapes) == {"E", "G"}
    assert not shapes["E"] & shapes["G"]
    share = sum(1 for meter in meters if meter[3] == "E") / len(meters)
    assert 0.5 < share < 0.8


def test_mpan_cores_carry_their_check_digit_and_mprns_fit(meters: list[tuple[str, ...]]) -> None:
    for _, _, mpxn, fuel, *_ in meters:
        if fuel == "E":
            assert len(mpxn) == 13, mpxn
            assert 10 <= int(mpxn[:2]) <= 23, mpxn
            assert int(mpxn[12]) == mpan_check_digit(mpxn[:12]), mpxn
        else:
            assert re.fullmatch("[1-9][0-9]{5,9}", mpxn), mpxn
    numbers = [meter[2] for meter in meters]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("mpan", ["1200000000002", "0200000000000", "1012345678903"])
def test_the_check_digit_helper_agrees_with_cores_worked_by_hand(mpan: str) -> None:
    # 1*3 + 2*5 = 13 -> 2; 2*5 = 10 -> 10 -> 0 (the mod 10 step); 1*3 + 0*5 + 1*7 + 2*13 + 3*17
    # + 4*19 + 5*23 + 6*29 + 7*31 + 8*37 + 9*41 + 0*43 = 1334 -> 3.
    assert mpan_check_digit(mpan[:12]) == int(mpan[12])


def test_installs_in_the_smets1_era(meters: list[tuple[str, ...]]) -> None:
    years = Counter(int(meter[5][:4]) for meter in meters)
    assert set(years) == set(range(2012, 2019))
    assert years[2017] > years[2012] * 5
    for _, _, _, _, _, installed in meters[:2000]:
        date(int(installed[:4]), int(installed[4:6]), int(installed[6:8]))


def test_device_models_are_skewed_and_the_product_lists_leave_some_out(
    estate: dict[str, ParsedFile], meters: list[tuple[str, ...]]
) -> None:
    used = Counter(meter[4] for meter in meters)
    eligible = set(values(estate["EPCL"], "dmc_id"))
    tested = set(values(estate["DMCT"], "dmc_id"))
    known = eligible | tested | set(used)
    assert 30 <= len(known) <= 60
    assert all(re.fullmatch(r"DMC-[A-Z]+-[A-Z0-9]+-[0-9.]+", dmc) for dmc in known)
    counts = sorted(used.values(), reverse=True)
    assert counts[0] > 5 * counts[len(counts) // 2]
    not_eligible = set(used) - eligible
    untested = set(used) - tested
    assert 1 <= len(not_eligible) <= 5
    assert 1 <= len(untested) <= 5
    assert not_eligible != untested
    assert max(used[dmc] for dmc in not_eligible) > 0.01 * len(meters)  # a popular-ish one
    assert len(eligible) > 0.8 * len(known)
    for dmc, manufacturer, model, firmware in (row.values for row in estate["EPCL"].rows):
        assert manufacturer and model and firmware
        assert dmc.endswith(f"-{model}-{firmware}")
    assert all(values(estate["DMCT"], "description"))


def test_every_exclusion_code_is_defined_in_exclcode(estate: dict[str, ParsedFile]) -> None:
    defined = {
        code: site_wide for code, _, site_wide in (r.values for r in estate["EXCLCODE"].rows)
    }
    assert 10 <= len(defined) <= 15
    assert set(defined.values()) == {"Y", "N"}
    used = {
        "NONCOMM": set(values(estate["NONCOMM"], "reason_code")),
        "MANEXCL": set(values(estate["MANEXCL"], "reason_code")),
        "STATUSCHG": set(values(estate["STATUSCHG"], "change_code")),
    }
    for codes in used.values():
        assert len(codes) >= 2
        assert codes <= set(defined)
    assert not used["NONCOMM"] & used["MANEXCL"]
    assert not set(values(estate["TODO"], "todo_code")) & set(defined)


def test_lists_hold_their_share_of_the_meters(
    estate: dict[str, ParsedFile], meters: list[tuple[str, ...]]
) -> None:
    shares = {category: len(estate[category].rows) / len(meters) for category in ORDER[4:]}
    assert 0.02 <= shares["NONCOMM"] <= 0.04
    assert 0.0025 <= shares["MANEXCL"] <= 0.01
    assert 0.01 <= shares["TODO"] <= 0.03
    assert 0.005 <= shares["STATUSCHG"] <= 0.015
    comments = values(estate["MANEXCL"], "comment")
    assert 0.1 < comments.count("") / len(comments) < 0.6
    due = values(estate["TODO"], "due_date")
    assert 0.1 < due.count("") / len(due) < 0.4
    assert len(set(values(estate["TODO"], "todo_code"))) >= 3


def test_lists_pick_any_meter_so_a_site_can_have_several_listed(
    estate: dict[str, ParsedFile], meters: list[tuple[str, ...]]
) -> None:
    site_of = {meter[0]: meter[1] for meter in meters}
    listed = {msn for category in ORDER[4:] for msn in values(estate[category], "msn")}
    per_site = Counter(site_of[msn] for msn in listed)
    assert max(per_site.values()) >= 2
    fuels = Counter(meter[3] for meter in meters if meter[0] in listed)
    assert fuels["E"] and fuels["G"]


# -- written where docs/mmtlite.md says -------------------------------------------------------


def test_write_set_puts_every_file_flat_into_a_new_folder(tmp_path: Path) -> None:
    files = generate(30, seed=2)
    folder = tmp_path / "out" / "set"
    paths = write_set(files, folder)
    assert paths == [folder / file.name for file in files]
    assert sorted(path.name for path in folder.iterdir()) == sorted(file.name for file in files)
    for path, file in zip(paths, files, strict=True):
        assert path.read_bytes() == file.content
        found = parse(path, env="build")
        assert not found.control_failures and not found.row_errors


def test_write_into_inbound_uses_each_systems_landing_folder(tmp_path: Path) -> None:
    files = generate(30, seed=2, env="build")
    paths = write_into_inbound(files, Place(tmp_path, "build"))
    data = "system_data_build"
    folders = {file.category: path.parent for file, path in zip(files, paths, strict=True)}
    assert {
        category: folder.relative_to(tmp_path).as_posix() for category, folder in folders.items()
    } == {
        "EXCLCODE": f"mmt/{data}/exclcode/inbound",
        "DMCT": f"dcc/{data}/dmct/inbound",
        "EPCL": f"dcc/{data}/epcl/inbound",
        "MMT": f"mmt/{data}/mmt/inbound",
        "NONCOMM": f"mmt/{data}/noncomm/inbound",
        "MANEXCL": f"mmt/{data}/manexcl/inbound",
        "TODO": f"mmt/{data}/todo/inbound",
        "STATUSCHG": f"cs/{data}/statuschg/inbound",
    }
    for file, path in zip(files, paths, strict=True):
        assert path.name == file.name
        assert path.read_bytes() == file.content


def test_prod_files_land_in_system_data(tmp_path: Path) -> None:
    files = generate(3, env="prod")
    paths = write_into_inbound(files, Place(tmp_path, "prod"))
    assert paths[3] == tmp_path / "mmt" / "system_data" / "mmt" / "inbound" / files[3].name
    assert files[3].name == "MMT_PROD_20240101090003.csv"
