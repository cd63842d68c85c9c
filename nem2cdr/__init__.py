"""nem2cdr: read AEMO NEM12/NEM13 meter data exactly, and turn it into CDR energy usage payloads.

The public surface is small::

    import nem2cdr
    reader = nem2cdr.read("NEM12#...csv")      # path, "-", bytes file, .csv or .zip
    for record in reader:                       # IntervalDay (NEM12) or BasicRead (NEM13)
        ...
    reader.diagnostics.errors, reader.stats

    nem2cdr.convert("NEM12#...csv", "usage.json", nem2cdr.ConvertOptions(interval_reads="FULL"))
    nem2cdr.check("usage.json")                 # [] when the payload is valid
"""

from nem2cdr.checking import Problem, check
from nem2cdr.conversion import ConvertResult, convert
from nem2cdr.diagnostics import CODES, Diagnostics
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

__version__ = "0.1.0"

__all__ = [
    "CODES",
    "B2BDetail",
    "BasicB2B",
    "BasicRead",
    "ConvertOptions",
    "ConvertResult",
    "Diagnostic",
    "Diagnostics",
    "Header",
    "IntervalDay",
    "Problem",
    "QualitySpan",
    "Reader",
    "Record",
    "Stats",
    "Stream",
    "check",
    "convert",
    "read",
]
