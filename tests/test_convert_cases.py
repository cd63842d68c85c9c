"""Conversion decisions of CDR-MAPPING.md, one behaviour per test, on small hand-made files."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr import ConvertOptions, pages
from nem2cdr.pages import PageError
from nem2cdr.usage import DEFAULT_NAMESPACE
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import day_values, nem12, row_300

E1 = "200,6102000001,E1B1,1,E1,N1,METER1,kWh,30,"
B1 = "200,6102000001,E1B1,2,B1,N2,METER1,kWh,30,"
OTHER_NMI = "200,6102000002,E1,1,E1,N1,METER2,kWh,30,"


def convert(data: bytes, **options: Any) -> tuple[nem2cdr.ConvertResult, dict[str, Any]]:
    out = io.BytesIO()
    pages = {k: options.pop(k) for k in ("page", "page_size") if k in options}
    keep_going = options.pop("keep_going", False)
    result = nem2cdr.convert(
        io.BytesIO(data),
        out,
        ConvertOptions(service_point_id="nmi", **options),
        keep_going=keep_going,
        **pages,
    )
    payload = json.loads(out.getvalue()) if out.getvalue() else {}
    if payload:
        assert nem2cdr.check(out.getvalue()) == []
    return result, payload


def keys(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (r["servicePointId"], r["readStartDate"], r["registerSuffix"])
        for r in payload["data"]["reads"]
    ]


def test_standard_order_nmi_then_date_descending_then_suffix() -> None:
    data = nem12(
        OTHER_NMI,
        row_300("20240101"),  # a later NMI first in the file
        E1,
        row_300("20240101"),
        row_300("20240102"),
        B1,
        row_300("20240101"),
        row_300("20240102"),
    )
    _, payload = convert(data)
    assert keys(payload) == [
        ("6102000001", "2024-01-02", "B1"),
        ("6102000001", "2024-01-02", "E1"),
        ("6102000001", "2024-01-01", "B1"),
        ("6102000001", "2024-01-01", "E1"),
        ("6102000002", "2024-01-01", "E1"),
    ]


def test_a_nmi_whose_configuration_changes_mid_file() -> None:
    # Days 1-2: E1 only; days 3-4: E1 and B1 (solar installed). Each day carries exactly the
    # streams that have data for it, and an NMI that comes back later is merged in order.
    data = nem12(
        "200,6102000001,E1,1,E1,N1,METER1,kWh,30,",
        row_300("20240101"),
        row_300("20240102"),
        OTHER_NMI,
        row_300("20240101"),
        E1,
        row_300("20240103"),
        row_300("20240104"),
        B1,
        row_300("20240103"),
        row_300("20240104"),
    )
    _, payload = convert(data)
    assert keys(payload)[:6] == [
        ("6102000001", "2024-01-04", "B1"),
        ("6102000001", "2024-01-04", "E1"),
        ("6102000001", "2024-01-03", "B1"),
        ("6102000001", "2024-01-03", "E1"),
        ("6102000001", "2024-01-02", "E1"),
        ("6102000001", "2024-01-01", "E1"),
    ]
    assert payload["meta"]["totalRecords"] == 7


@pytest.mark.parametrize("late_first", [True, False])
def test_the_same_day_twice_the_later_update_wins(late_first: bool) -> None:
    early = row_300(values=day_values(48, "1"), tail="A,,,20240102030000,")
    late = row_300(values=day_values(48, "2"), tail="A,,,20240105030000,")
    rows = [late, E1, early] if late_first else [early, E1, late]
    result, payload = convert(nem12(E1, *rows))
    [read] = payload["data"]["reads"]
    assert read["intervalRead"]["aggregateValue"] == 96
    assert [d.code for d in result.diagnostics.warnings] == ["NEM12-W011"]


def test_the_same_day_twice_at_the_same_time_the_later_line_wins() -> None:
    first, second = row_300(values=day_values(48, "1")), row_300(values=day_values(48, "3"))
    _, payload = convert(nem12(E1, first, OTHER_NMI, row_300(), E1, second))
    assert payload["data"]["reads"][0]["intervalRead"]["aggregateValue"] == 144


def test_export_is_negative_and_zero_is_never_minus_zero() -> None:
    values = ",".join(["0"] * 24 + ["1.25"] * 24)
    data = nem12(B1, row_300(values=values))
    _, payload = convert(data, interval_reads="FULL")
    interval = payload["data"]["reads"][0]["intervalRead"]
    assert interval["intervalReads"] == [0] * 24 + [-1.25] * 24
    assert interval["aggregateValue"] == -30
    out = io.BytesIO()
    nem2cdr.convert(io.BytesIO(data), out, ConvertOptions(interval_reads="MIN_30"))
    assert b"-0," not in out.getvalue() and b"-0.0" not in out.getvalue()
    _, as_is = convert(data, interval_reads="FULL", export_sign="as-is")
    assert as_is["data"]["reads"][0]["intervalRead"]["aggregateValue"] == 30


def test_values_are_the_files_decimals_not_floats() -> None:
    values = ",".join(["0.1", "0.2", "1.500", "0.048"] * 12)
    _, payload = convert(nem12(E1, row_300(values=values)), interval_reads="FULL")
    interval = payload["data"]["reads"][0]["intervalRead"]
    assert interval["intervalReads"][:4] == [0.1, 0.2, 1.5, 0.048]
    # 12 x (0.1 + 0.2 + 1.5 + 0.048) = 22.176 exactly, not 22.176000000000002
    assert interval["aggregateValue"] == 22.176


@pytest.mark.parametrize(
    ("flag", "quality"),
    [
        ("S53", "SUBSTITUTE"),
        ("E52", "SUBSTITUTE"),
        ("F14", "FINAL_SUBSTITUTE"),
        ("N", "SUBSTITUTE"),
    ],
)
def test_whole_day_quality_is_one_range(flag: str, quality: str) -> None:
    result, payload = convert(
        nem12(E1, row_300(tail=f"{flag},79,,20240102030000,")), interval_reads="FULL"
    )
    interval = payload["data"]["reads"][0]["intervalRead"]
    assert interval["readQualities"] == [
        {"startInterval": 1, "endInterval": 48, "quality": quality}
    ]
    warned = [d.code for d in result.diagnostics.warnings]
    assert warned == (["NEM12-W020"] if flag == "N" else [])


def test_a_v_day_gives_ranges_and_min30_takes_the_least_final() -> None:
    stream = E1.replace(",30,", ",15,")
    rows = [
        row_300(values=day_values(96), tail="V,,,20240102030000,"),
        "400,1,3,A,,",
        "400,4,4,F14,76,",
        "400,5,5,S53,79,",
        "400,6,96,A,,",
    ]
    data = nem12(stream, *rows)
    _, full = convert(data, interval_reads="FULL")
    assert full["data"]["reads"][0]["intervalRead"]["readQualities"] == [
        {"startInterval": 4, "endInterval": 4, "quality": "FINAL_SUBSTITUTE"},
        {"startInterval": 5, "endInterval": 5, "quality": "SUBSTITUTE"},
    ]
    _, half = convert(data, interval_reads="MIN_30")
    interval = half["data"]["reads"][0]["intervalRead"]
    # Half-hour 2 holds intervals 3 (A) and 4 (F); half-hour 3 holds 5 (S) and 6 (A).
    assert interval["readQualities"] == [
        {"startInterval": 2, "endInterval": 2, "quality": "FINAL_SUBSTITUTE"},
        {"startInterval": 3, "endInterval": 3, "quality": "SUBSTITUTE"},
    ]
    assert interval["intervalReads"] == [3] * 48


def test_min30_refuses_intervals_that_do_not_divide_30() -> None:
    stream = E1.replace(",30,", ",60,")
    data = nem12(stream, row_300(values=day_values(24)))
    result, payload = convert(data, interval_reads="MIN_30")
    assert not result.ok and payload == {}
    assert [d.code for d in result.diagnostics.errors] == ["NEM12-E040"]
    assert "divide 30" in result.diagnostics.errors[0].message
    assert convert(data, interval_reads="FULL")[0].ok


def test_none_mode_is_aggregate_only() -> None:
    _, payload = convert(nem12(E1, row_300()))
    read = payload["data"]["reads"][0]
    assert read["intervalRead"] == {"aggregateValue": 72}
    assert read["readStartDate"] == read["readEndDate"] == "2024-01-01"
    assert (read["registerId"], read["meterId"], read["unitOfMeasure"]) == ("1", "METER1", "kWh")
    assert "controlledLoad" not in read


def test_blank_meter_serial_is_omitted_and_controlled_load_only_when_named() -> None:
    e2 = "200,6102000001,E1E2,2,E2,N2,,kWh,30,"
    data = nem12(E1, row_300(), e2, row_300())
    _, payload = convert(data, controlled_load=frozenset({"E2"}))
    flags = {r["registerSuffix"]: r.get("controlledLoad") for r in payload["data"]["reads"]}
    assert flags == {"E1": False, "E2": True}
    assert "meterId" not in payload["data"]["reads"][1]


def test_service_point_id_is_a_deterministic_uuid_of_the_nmi() -> None:
    data = nem12(E1, row_300())
    out = io.BytesIO()
    nem2cdr.convert(io.BytesIO(data), out)
    read = json.loads(out.getvalue())["data"]["reads"][0]
    assert read["servicePointId"] == str(uuid.uuid5(DEFAULT_NAMESPACE, "6102000001"))
    other = uuid.uuid4()
    out = io.BytesIO()
    nem2cdr.convert(io.BytesIO(data), out, ConvertOptions(namespace=other))
    assert json.loads(out.getvalue())["data"]["reads"][0]["servicePointId"] == str(
        uuid.uuid5(other, "6102000001")
    )


def test_the_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    sample = (
        Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"
    )
    outputs = []
    for run in range(2):
        target = tmp_path / f"run{run}.json"
        nem2cdr.convert(sample, target, ConvertOptions(interval_reads="FULL"), whole_file=True)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 1_000_000


def test_date_filters_are_inclusive() -> None:
    rows = [row_300(f"2024010{d}") for d in range(1, 6)]
    _, payload = convert(
        nem12(E1, *rows), oldest_date=date(2024, 1, 2), newest_date=date(2024, 1, 4)
    )
    assert [k[1] for k in keys(payload)] == ["2024-01-04", "2024-01-03", "2024-01-02"]
    assert "oldest-date=2024-01-02&newest-date=2024-01-04" in payload["links"]["self"]


def test_no_records_is_zero_pages_and_page_one_is_empty() -> None:
    data = nem12(E1, row_300())
    _, payload = convert(data, oldest_date=date(2030, 1, 1))
    assert payload["meta"] == {"totalRecords": 0, "totalPages": 0}
    assert payload["data"]["reads"] == []
    _, page = convert(data, oldest_date=date(2030, 1, 1), page=1, page_size=25)
    assert page["meta"] == {"totalRecords": 0, "totalPages": 0}
    with pytest.raises(PageError, match="page 2 is out of range: there are 0 pages"):
        convert(data, oldest_date=date(2030, 1, 1), page=2, page_size=25)


def test_one_page_with_its_links() -> None:
    rows = [row_300(f"2024010{d}") for d in range(1, 8)]
    _, payload = convert(nem12(E1, *rows), page=2, page_size=3, base_url="https://x.example/u")
    assert [k[1] for k in keys(payload)] == ["2024-01-04", "2024-01-03", "2024-01-02"]
    assert payload["meta"] == {"totalRecords": 7, "totalPages": 3}
    assert payload["links"] == {
        "self": "https://x.example/u?page=2&page-size=3",
        "first": "https://x.example/u?page=1&page-size=3",
        "prev": "https://x.example/u?page=1&page-size=3",
        "next": "https://x.example/u?page=3&page-size=3",
        "last": "https://x.example/u?page=3&page-size=3",
    }


def test_pages_out_of_range_and_too_large() -> None:
    data = nem12(E1, row_300())
    with pytest.raises(PageError, match="there are 1 pages"):
        convert(data, page=2, page_size=25)
    with pytest.raises(PageError, match="between 1 and 1000"):
        convert(data, page=1, page_size=1001)


def test_a_file_with_errors_writes_nothing_unless_keep_going() -> None:
    data = nem12(E1, row_300("20240101"), row_300("20240132"))
    result, payload = convert(data)
    assert not result.ok and payload == {}
    assert [d.code for d in result.diagnostics.errors] == ["NEM12-E010"]
    result, payload = convert(data, keep_going=True)
    assert result.ok and payload["meta"]["totalRecords"] == 1
    assert result.diagnostics.error_count == 1


def test_nem13_basic_reads() -> None:
    corpus = Path(__file__).parent / "data" / "nem12-examples" / "unzipped"
    _, payload = convert((corpus / "Example_NEM13_forward_estimate.csv").read_bytes())
    reads = payload["data"]["reads"]
    assert [(r["registerSuffix"], r["readStartDate"], r["readEndDate"]) for r in reads] == [
        ("11", "2004-01-08", "2004-04-08"),
        ("41", "2004-01-08", "2004-04-08"),
    ]
    assert reads[0]["basicRead"] == {"quality": "SUBSTITUTE", "value": 111}  # E64: estimate
    assert reads[0]["readUType"] == "basicRead"


def test_jsonl_is_the_reads_one_per_line() -> None:
    data = nem12(E1, row_300("20240101"), row_300("20240102"))
    _, whole = convert(data)
    out = io.BytesIO()
    nem2cdr.convert(io.BytesIO(data), out, ConvertOptions(service_point_id="nmi"), jsonl=True)
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == whole["data"]["reads"]
    assert nem2cdr.check(out.getvalue()) == []


def test_cli_exit_codes(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(nem12(E1, row_300()))
    runner = CliRunner()
    ok = runner.invoke(cli, ["convert", str(source), "-o", str(tmp_path / "out.json")])
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "out.json").read_bytes())["meta"]["totalRecords"] == 1
    out_of_range = runner.invoke(cli, ["convert", str(source), "--page", "3"])
    assert out_of_range.exit_code == 1
    assert "page 3 is out of range: there are 1 pages" in out_of_range.output
    too_big = runner.invoke(cli, ["convert", str(source), "--page-size", "1001"])
    assert too_big.exit_code == 2
    broken = tmp_path / "broken.csv"
    broken.write_bytes(nem12(E1, row_300("20241301")))
    failed = runner.invoke(cli, ["convert", str(broken), "-o", str(tmp_path / "b.json")])
    assert failed.exit_code == 1
    assert "NEM12-E010" in failed.output and not (tmp_path / "b.json").exists()
    pages = runner.invoke(cli, ["convert", str(source), "--all-pages", str(tmp_path / "p")])
    assert pages.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["page-0001.json"]


def test_progress_is_reported_as_a_rising_fraction(tmp_path: Path) -> None:
    from nem2cdr.generator import generate

    source = tmp_path / "many.csv"
    with source.open("wb") as out:
        generate(out, nmis=3, days=400, interval=30, seed=4)
    seen: list[float] = []
    result = nem2cdr.convert(source, tmp_path / "out.jsonl", jsonl=True, on_progress=seen.append)
    assert result.ok and result.total_records > 2000
    assert seen and seen == sorted(seen)
    assert seen[0] > 0 and seen[-1] <= 1


def test_all_pages_into_a_used_folder_leaves_no_stale_page(tmp_path: Path) -> None:
    data = nem12(E1, *[row_300(f"2024010{d}") for d in range(1, 10)])
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    folder = tmp_path / "pages"
    (folder).mkdir()
    (folder / "notes.txt").write_text("mine")
    nem2cdr.convert(source, "-", all_pages=folder, page_size=2)
    assert len(list(folder.glob("page-*.json"))) == 5
    nem2cdr.convert(source, "-", all_pages=folder, page_size=4)
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt",
        "page-0001.json",
        "page-0002.json",
        "page-0003.json",
    ]


def test_an_interrupted_all_pages_adds_no_page_to_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(nem12(E1, *[row_300(f"2024010{d}") for d in range(1, 10)]))
    folder = tmp_path / "pages"
    nem2cdr.convert(source, "-", all_pages=folder, page_size=2)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    real_write = pages.write_response
    calls: list[int] = []

    def interrupted_on_the_third_page(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_write(*args, **kwargs)

    monkeypatch.setattr(pages, "write_response", interrupted_on_the_third_page)
    with pytest.raises(KeyboardInterrupt):
        nem2cdr.convert(source, "-", all_pages=folder, page_size=1)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "pages"]


@pytest.mark.parametrize("how", ["same path", "another name"])
def test_the_output_may_not_be_the_input(tmp_path: Path, how: str) -> None:
    source = tmp_path / "in.csv"
    data = nem12(E1, row_300())
    source.write_bytes(data)
    output = source if how == "same path" else tmp_path / "link.csv"
    if how == "another name":
        output.symlink_to(source)
    done = CliRunner().invoke(cli, ["convert", "-q", str(source), "-o", str(output)])
    assert done.exit_code == 2 and "is the input file" in done.output
    assert source.read_bytes() == data


def test_unwritable_outputs_are_one_line_errors(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(nem12(E1, row_300()))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    runner = CliRunner()
    folder = runner.invoke(cli, ["convert", str(source), "-o", str(tmp_path)])
    assert folder.exit_code == 2
    under_a_file = runner.invoke(cli, ["convert", str(source), "--all-pages", str(blocker / "x")])
    assert under_a_file.exit_code == 1
    assert "cannot write" in under_a_file.output and "Traceback" not in under_a_file.output
    made = runner.invoke(cli, ["generate", "--days", "2", "-o", str(tmp_path / "new" / "g.csv")])
    assert made.exit_code == 0 and (tmp_path / "new" / "g.csv").stat().st_size > 0
    assert not list((tmp_path / "new").glob("*.partial-*"))
