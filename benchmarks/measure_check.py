"""``nem2cdr check`` on the FULL response of ``big`` and its JSON Lines twin, as whole processes,
side by side with the peers in one run: time and peak RSS.

    python -m benchmarks.measure_check [--runs 3] [--no-previous]

The payloads are ``nem2cdr convert --interval-reads FULL --whole-file`` (one non-standard
response of every read, about 137 MB) and ``--jsonl`` of ``big``, made once and cached in
``benchmarks/data/``. Each command runs in a fresh process ``--runs`` times (median time, largest
peak RSS):

- ``nem2cdr check FILE``: the streaming check (official schema and the standard's rules);
- ``json.load``: Python's own parse of the same file, nothing checked (``json.loads`` of each
  line for JSON Lines); the yardstick: check may take at most 1.5 times as long, in at most
  300 MB;
- ``jsonschema-rs``: the official schema alone on the whole document (json.load first, as it
  needs Python values; for JSON Lines each line's EnergyUsageRead);
- Ajv (Node): the standards body's validator, with the same official schema the project ships
  (``nem2cdr/schema/cds_energy.json``, the Consumer Data Standards' OpenAPI file, see its
  SOURCE.md), ``strict: false`` for its ``x-`` keywords. Ajv and ajv-formats are installed with
  npm into ``benchmarks/data/ajv/`` on first use; without node and npm, Ajv is skipped with a line;
- the whole-document check of before (``tests/check_reference.py``, the same rules on the
  document held whole, without the bound on values a read may hold), once, unless
  ``--no-previous``.

Wall time and CPU time (user + system) are both shown: on a busy shared machine the wall time
of one process depends on what else runs, its CPU time much less.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from benchmarks.files import DATA_DIR, MB, bench_file
from benchmarks.process import Measured, code_version, median, nem2cdr_executable, run_measured

AJV_DIR = DATA_DIR / "ajv"
SCHEMA = Path(str(resources.files("nem2cdr") / "schema" / "cds_energy.json"))

_JSON_LOAD = """
import json, sys
with open(sys.argv[1], "rb") as payload:
    if sys.argv[2] == "lines":
        for line in payload:
            json.loads(line)
    else:
        json.load(payload)
"""
_RS = """
import json, sys
import jsonschema_rs
official = json.load(open(sys.argv[2], "rb"))
schema = {"$ref": "#/components/schemas/" + sys.argv[3], "components": official["components"]}
validator = jsonschema_rs.Draft4Validator(schema)
if sys.argv[3] == "EnergyUsageRead":
    with open(sys.argv[1], "rb") as lines:
        valid = all(validator.is_valid(json.loads(line)) for line in lines if line.strip())
else:
    valid = validator.is_valid(json.load(open(sys.argv[1], "rb")))
print("valid" if valid else "invalid")
"""
_PREVIOUS = """
import sys
from nem2cdr import checking
from tests.check_reference import reference_check
checking._MAX_MEMBERS = 10**12  # the whole-document check had no such bound
print(len(reference_check(open(sys.argv[1], "rb").read())), "problems")
"""
_AJV = """
const fs = require("fs");
const readline = require("readline");
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");
const [file, schemaFile, name] = process.argv.slice(2);
const official = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile({
  $ref: "#/components/schemas/" + name,
  components: official.components,
});
if (name === "EnergyUsageRead") {
  let valid = true;
  const lines = readline.createInterface({ input: fs.createReadStream(file) });
  lines.on("line", (line) => {
    if (line.trim() && !validate(JSON.parse(line))) valid = false;
  });
  lines.on("close", () => console.log(valid ? "valid" : "invalid"));
} else {
  console.log(validate(JSON.parse(fs.readFileSync(file, "utf8"))) ? "valid" : "invalid");
}
"""


@dataclass
class Row:
    name: str
    seconds: float  # median wall time
    cpu_seconds: float  # median user + system time
    peak_rss_mib: float
    said: str


def _payloads(executable: str) -> tuple[Path, Path]:
    """The FULL whole-file response of ``big`` and its JSON Lines twin, cached."""
    source = bench_file("big")
    response = DATA_DIR / f"{source.stem}-FULL-whole.json"
    lines = DATA_DIR / f"{source.stem}-FULL.jsonl"
    for path, option in ((response, "--whole-file"), (lines, "--jsonl")):
        if not path.exists():
            partial = path.with_suffix(".partial")
            argv = [executable, "convert", "-q", "--interval-reads", "FULL", option, str(source)]
            subprocess.run([*argv, "-o", str(partial)], check=True)
            partial.rename(path)
    return response, lines


def _ajv_script() -> Path | None:
    """The Ajv runner, installing Ajv on first use; None (with a line) without node and npm."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("Ajv skipped: node and npm are not both on PATH")
        return None
    script = AJV_DIR / "validate.js"
    if not (AJV_DIR / "node_modules" / "ajv-draft-04").exists():
        AJV_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--prefix",
                str(AJV_DIR),
                "ajv",
                "ajv-draft-04",
                "ajv-formats",
            ],
            check=True,
        )
    script.write_text(_AJV, "utf-8")
    return script


def _measure(name: str, argv: list[str], runs: int) -> Row:
    done: list[Measured] = []
    for _ in range(runs):
        measured = run_measured(argv)
        if measured.returncode not in (0, 1):
            sys.exit(f"{name} failed (exit {measured.returncode}):\n{measured.stderr[-3000:]}")
        done.append(measured)
    said = done[-1].stdout.strip().splitlines()
    return Row(
        name,
        median([m.seconds for m in done]),
        median([m.cpu_seconds for m in done]),
        max(m.peak_rss_mb for m in done),
        said[0].split(" /")[0][:40] if said else "",  # without the file's path
    )


def measure(payload: Path, read_only: bool, runs: int, previous: bool, ajv: Path | None) -> None:
    executable = nem2cdr_executable()
    assert executable is not None
    schema = "EnergyUsageRead" if read_only else "EnergyUsageListResponse"
    layout = "lines" if read_only else "document"
    python = sys.executable
    rows = [
        _measure("nem2cdr check", [executable, "check", str(payload)], runs),
        _measure("json.load", [python, "-c", _JSON_LOAD, str(payload), layout], runs),
        _measure("jsonschema-rs", [python, "-c", _RS, str(payload), str(SCHEMA), schema], runs),
    ]
    if ajv is not None:
        rows.append(_measure("Ajv", ["node", str(ajv), str(payload), str(SCHEMA), schema], runs))
    if previous and not read_only:
        rows.append(_measure("whole-document check", [python, "-c", _PREVIOUS, str(payload)], 1))
    base, peer = rows[1], (rows[3] if ajv is not None else None)
    print(f"\n{payload.name} ({payload.stat().st_size / MB:.1f} MB), median of {runs}")
    print(
        f"{'':20} {'wall s':>7} {'x json.load':>11} {'x Ajv':>6}   {'CPU s':>6} "
        f"{'x json.load':>11} {'x Ajv':>6} {'peak RSS':>9}  said"
    )
    for row in rows:
        cells = []
        for attribute in ("seconds", "cpu_seconds"):
            mine: float = getattr(row, attribute)
            against_ajv = f"{mine / getattr(peer, attribute):6.2f}" if peer else f"{'-':>6}"
            cells.append(f"{mine:7.2f} {mine / getattr(base, attribute):11.2f} {against_ajv}")
        print(f"{row.name:20} {cells[0]}   {cells[1]} {row.peak_rss_mib:5.0f} MiB  {row.said}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (median)")
    parser.add_argument(
        "--no-previous", action="store_true", help="skip the whole-document check of before"
    )
    args = parser.parse_args()
    executable = nem2cdr_executable()
    if executable is None:
        sys.exit("the nem2cdr command is not installed (pip install -e .)")
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}, {code_version()}")
    response, lines = _payloads(executable)
    ajv = _ajv_script()
    measure(response, False, args.runs, not args.no_previous, ajv)
    measure(lines, True, args.runs, False, ajv)


if __name__ == "__main__":
    main()
