"""nem2cdr: read AEMO NEM12/NEM13 meter data exactly, and turn it into CDR energy usage payloads.

The public surface is small, one function per command::

    import nem2cdr
    reader = nem2cdr.read("NEM12#...csv")      # path, "-", bytes file, .csv or .zip
    for record in reader:                       # IntervalDay (NEM12) or BasicRead (NEM13)
        ...
    reader.diagnostics.errors, reader.stats

    nem2cdr.validate("NEM12#...csv")            # ValidationReport: ok, errors, warnings, stats
    nem2cdr.convert("NEM12#...csv", "usage.json", nem2cdr.ConvertOptions(interval_reads="FULL"))
    nem2cdr.check("usage.json")                 # [] when the payload is valid
    nem2cdr.generate("big.csv", nmis=100, days=365, interval=5)
    nem2cdr.write("copy.csv", days)             # IntervalDays back out as a NEM12 file
    nem2cdr.export(["a.zip", "b.csv"], "intervals.parquet", to="parquet")
    nem2cdr.to_arrow("a.zip")                   # record batches; to_polars, to_pandas

``nem2cdr_experiments.run(...)`` is ``nem2cdr experiments``.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nem2cdr.checking import CheckReport, check
    from nem2cdr.conversion import ConvertResult, convert
    from nem2cdr.diagnostics import CODES, Diagnostics
    from nem2cdr.exporting import ExportResult, export
    from nem2cdr.frames import ExportError, to_arrow, to_pandas, to_polars
    from nem2cdr.generator import generate
    from nem2cdr.model import (
        B2BDetail,
        BasicB2B,
        BasicRead,
        Diagnostic,
        Header,
        IntervalDay,
        QualitySpan,
        Record,
        Stats,
        Stream,
    )
    from nem2cdr.reader import Reader, read
    from nem2cdr.usage import ConvertOptions
    from nem2cdr.validation import ValidationReport, validate
    from nem2cdr.writer import write

__version__ = "0.1.0"

# Every name loads its module on first use: a command pays only for what it runs (validate
# not for jsonschema, the spool or the fork machinery), and mmtlite, which writes through
# nem2cdr.atomic, not for the NEM12 reader.
_LAZY = {
    "check": "nem2cdr.checking",
    "CheckReport": "nem2cdr.checking",
    "convert": "nem2cdr.conversion",
    "ConvertResult": "nem2cdr.conversion",
    "CODES": "nem2cdr.diagnostics",
    "Diagnostics": "nem2cdr.diagnostics",
    "generate": "nem2cdr.generator",
    "export": "nem2cdr.exporting",
    "ExportResult": "nem2cdr.exporting",
    **dict.fromkeys(["ExportError", "to_arrow", "to_pandas", "to_polars"], "nem2cdr.frames"),
    **dict.fromkeys(
        [
            "B2BDetail",
            "BasicB2B",
            "BasicRead",
            "Diagnostic",
            "Header",
            "IntervalDay",
            "QualitySpan",
            "Record",
            "Stats",
            "Stream",
        ],
        "nem2cdr.model",
    ),
    "Reader": "nem2cdr.reader",
    "read": "nem2cdr.reader",
    "ConvertOptions": "nem2cdr.usage",
    "ValidationReport": "nem2cdr.validation",
    "validate": "nem2cdr.validation",
    "write": "nem2cdr.writer",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nem2cdr' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CODES",
    "B2BDetail",
    "BasicB2B",
    "BasicRead",
    "CheckReport",
    "ConvertOptions",
    "ConvertResult",
    "Diagnostic",
    "Diagnostics",
    "ExportError",
    "ExportResult",
    "Header",
    "IntervalDay",
    "QualitySpan",
    "Reader",
    "Record",
    "Stats",
    "Stream",
    "ValidationReport",
    "check",
    "convert",
    "export",
    "generate",
    "read",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "validate",
    "write",
]
