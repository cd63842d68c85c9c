"""mmtlite: a SQLite meter migration tool, as a library.

The public surface is one handle with a method per ``mmtlite`` command::

    import mmtlite
    db = mmtlite.open("/srv/mmt", "sogl")      # home (default $MMTLITE_HOME, else ./mmt), env
    db.generate(1000)                           # synthetic inbound files (test environments)
    result = db.ingest()                        # RunResult: per file, outcome, counts, findings
    db.status().by_status                       # {"0": ..., "0S": ..., "0Z": ..., ...}
    db.select("T1", 100)                        # Selection, and its DCCCAND file
    db.report(html="migration.html")            # Report (and the HTML page)

Refusals raise ``MmtliteError`` (``BadArgument``, ``Busy``, ...); bad files are ``Finding``s.
Shares are fractions: ``db.load(paths, max_delete=0.2)`` is the CLI's ``--max-delete 20``.
"""

from mmtlite.activity import LoadEntry
from mmtlite.api import Database, open
from mmtlite.db import SchemaError
from mmtlite.errors import BadArgument, Exists, MmtliteError, OutputError
from mmtlite.findings import Finding, LoggedFinding
from mmtlite.generator import GeneratedFile
from mmtlite.loader import Budget, FileResult, RunResult
from mmtlite.lock import Busy
from mmtlite.migration_report import Report
from mmtlite.paths import PassedOver
from mmtlite.reports import Status, Story
from mmtlite.results import EvaluationReport, FileReport, RunReport, Template, Validation
from mmtlite.rules import Change, Evaluation
from mmtlite.set_aside import SetAside, SetAsideError
from mmtlite.simulate import Answer, SimulateError
from mmtlite.tranches import Export, Selection, TrancheError
from mmtlite.wrap import WrapError, Wrapped
from nem2cdr import __version__ as nem2cdr_version

__all__ = [
    "Answer",
    "BadArgument",
    "Budget",
    "Busy",
    "Change",
    "Database",
    "Evaluation",
    "EvaluationReport",
    "Exists",
    "Export",
    "FileReport",
    "FileResult",
    "Finding",
    "GeneratedFile",
    "LoadEntry",
    "LoggedFinding",
    "MmtliteError",
    "OutputError",
    "PassedOver",
    "Report",
    "RunReport",
    "RunResult",
    "SchemaError",
    "Selection",
    "SetAside",
    "SetAsideError",
    "SimulateError",
    "Status",
    "Story",
    "Template",
    "TrancheError",
    "Validation",
    "WrapError",
    "Wrapped",
    "open",
]

# mmtlite ships in the nem2cdr distribution: one version, read from one place.
__version__ = nem2cdr_version
