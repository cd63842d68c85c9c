"""The file categories of docs/mmtlite.md as data: columns, key, load action, system, validators.

Every category is one ``Category`` value; the parser and writer read these, and nothing in them
is code per category. A validator is a ``Kind``: a regular expression for the whole value and the
words that say what a valid value looks like.

Which system sends or receives each category (the ``<system>`` of the landing folders
``<home>/<system>/<system_data>/<category in lower case>/inbound|outbound``):

- ``mmt`` (the migration team's own uploads, the old spreadsheet templates): ``MMT``,
  ``NONCOMM``, ``MANEXCL``, ``TODO``, ``EXCLCODE``;
- ``cs`` (Client Services): ``STATUSCHG``, ``CSRESP`` in; ``CSNOTE`` out;
- ``dcc``: ``DMCT``, ``EPCL``, ``DCCRESP`` in; ``DCCCAND`` out;
- ``mdm``: ``MDMRESP`` in; ``MDMNOTIF`` out.

The key columns always come first, so a row's key is the start of its line.
"""

from __future__ import annotations

from typing import Literal

import msgspec

System = Literal["dcc", "cs", "mdm", "mmt"]
Direction = Literal["inbound", "outbound"]

ADD = "ADD"
REMOVE = "REMOVE"
ALL = "ALL"
ACTIONS = (ADD, REMOVE, ALL)
ACTION_COLUMN = "action"

ENVIRONMENTS = ("BUILD", "SOGL", "PROD")  # as written in file names and headers


class Kind(msgspec.Struct, frozen=True):
    """A column validator: ``pattern`` must match the whole value; ``expected`` says it in words."""

    name: str
    pattern: str
    expected: str


class Column(msgspec.Struct, frozen=True):
    """One column of a category. A ``required`` column may not be blank (except on ``REMOVE``)."""

    name: str
    kind: Kind
    required: bool = True


class Category(msgspec.Struct, frozen=True):
    """One file category: its columns (the action column not included), key and system."""

    name: str
    system: System
    direction: Direction
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # leading column names that identify a row
    has_action: bool  # the last column of a detail row is ADD, REMOVE or ALL
    summary: str
    # A control list decides the rules for many meters at once (codes, device lists): its
    # default error budget is 0 (docs/mmtlite.md, "Loading: exactly once").
    control: bool = False
    # Columns whose values must be codes of the EXCLCODE list (checked when loading).
    coded: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        """The ``<category>`` part of the landing folders."""
        return self.name.lower()

    @property
    def width(self) -> int:
        """Fields in a detail row, the action included."""
        return len(self.columns) + self.has_action

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every field name of a detail row, ``action`` last when there is one."""
        names = tuple(column.name for column in self.columns)
        return (*names, ACTION_COLUMN) if self.has_action else names


# Dates are calendar dates in 1900-2099, checked by the pattern alone (leap years included), so
# a million install dates need no per-value Python call.
_YEAR = "(?:19|20)[0-9]{2}"
_LEAP_YEAR = "(?:19|20)(?:0[48]|[2468][048]|[13579][26])|2000"
_MONTH_DAY = (
    "(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31"
)
DATE_PATTERN = f"(?:{_YEAR}(?:{_MONTH_DAY})|(?:{_LEAP_YEAR})0229)"
TIME_PATTERN = "(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"
STAMP_PATTERN = f"(?:{DATE_PATTERN}{TIME_PATTERN})"
STAMP_FORMAT = "%Y%m%d%H%M%S"  # a creation stamp as strftime writes it

# Free text: anything but control characters (C0, DEL, C1), at most 500 characters. It cannot
# hold the file's delimiter either: the format has no quoting.
TEXT_MAX = 500

MSN = Kind("msn", "[A-Z0-9]{6,20}", "6 to 20 upper-case letters or digits")
IDENTIFIER = Kind(
    "identifier",
    "[A-Za-z0-9][A-Za-z0-9._-]{0,31}",
    "1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit",
)
MPXN = Kind("mpxn", "[0-9]{13}|[0-9]{6,10}", "an MPAN core (13 digits) or an MPRN (6 to 10 digits)")
CODE = Kind(
    "code",
    "[A-Z0-9][A-Z0-9_-]{0,19}",
    "1 to 20 upper-case letters, digits, '_' or '-', starting with a letter or digit",
)
FUEL = Kind("fuel", "[EG]", "E or G")
FLAG = Kind("flag", "[YN]", "Y or N")
DECISION = Kind("decision", "ACCEPTED|REJECTED", "ACCEPTED or REJECTED")
RESULT = Kind("result", "OK|FAIL", "OK or FAIL")
DATE = Kind("date", DATE_PATTERN, "a date YYYYMMDD in 1900-2099")
TEXT = Kind(
    "text",
    f"[^\\x00-\\x1f\\x7f-\\x9f]{{0,{TEXT_MAX}}}",
    f"text of at most {TEXT_MAX} characters without control characters",
)


def _category(
    name: str,
    system: System,
    columns: tuple[Column, ...],
    key: tuple[str, ...] = ("msn",),
    has_action: bool = True,
    direction: Direction = "inbound",
    summary: str = "",
    control: bool = False,
    coded: tuple[str, ...] = (),
) -> Category:
    return Category(name, system, direction, columns, key, has_action, summary, control, coded)


_MSN = Column("msn", MSN)
_TRANCHE = Column("tranche_id", IDENTIFIER)
_DMC = Column("dmc_id", IDENTIFIER)
# CSRESP and MDMRESP answer alike: per meter and tranche, OK or FAIL and why.
_ACKNOWLEDGEMENT = (
    _MSN,
    _TRANCHE,
    Column("result", RESULT),
    Column("detail", TEXT, required=False),
)

_ALL_CATEGORIES = (
    _category(
        "MMT",
        "mmt",
        (
            _MSN,
            Column("site_id", IDENTIFIER),
            Column("mpxn", MPXN),
            Column("fuel", FUEL),
            _DMC,
            Column("install_date", DATE),
        ),
        summary="the master meter list",
    ),
    _category(
        "NONCOMM",
        "mmt",
        (_MSN, Column("reason_code", CODE), Column("detected_date", DATE)),
        summary="non-communicating meters: excluded",
        coded=("reason_code",),
    ),
    _category(
        "MANEXCL",
        "mmt",
        (_MSN, Column("reason_code", CODE), Column("comment", TEXT, required=False)),
        summary="manual exclusions",
        coded=("reason_code",),
    ),
    _category(
        "TODO",
        "mmt",
        (
            _MSN,
            Column("todo_code", CODE),
            Column("description", TEXT, required=False),
            Column("due_date", DATE, required=False),
        ),
        summary="open work; a meter with an open item is not eligible",
    ),
    _category(
        "STATUSCHG",
        "cs",
        (_MSN, Column("change_code", CODE), Column("effective_date", DATE)),
        summary="status changes from CS (churn, exchange, removal): excluded while present",
        coded=("change_code",),
    ),
    _category(
        "DMCT",
        "dcc",
        (_DMC, Column("description", TEXT, required=False), Column("tested_date", DATE)),
        key=("dmc_id",),
        summary="device model combinations the DCC has tested",
        control=True,
    ),
    _category(
        "EPCL",
        "dcc",
        (
            _DMC,
            Column("manufacturer", TEXT),
            Column("model", TEXT),
            Column("firmware", TEXT),
        ),
        key=("dmc_id",),
        summary="eligible product combinations list",
        control=True,
    ),
    _category(
        "EXCLCODE",
        "mmt",
        (
            Column("code", CODE),
            Column("description", TEXT, required=False),
            Column("site_wide", FLAG),
        ),
        key=("code",),
        summary="exclusion reason codes",
        control=True,
    ),
    _category(
        "DCCRESP",
        "dcc",
        (
            _MSN,
            _TRANCHE,
            Column("decision", DECISION),
            Column("reason_code", CODE, required=False),
        ),
        key=("msn", "tranche_id"),
        has_action=False,
        summary="the DCC's answer to a candidate list",
    ),
    _category(
        "CSRESP",
        "cs",
        _ACKNOWLEDGEMENT,
        key=("msn", "tranche_id"),
        has_action=False,
        summary="Client Services' acknowledgement of a CS note",
    ),
    _category(
        "MDMRESP",
        "mdm",
        _ACKNOWLEDGEMENT,
        key=("msn", "tranche_id"),
        has_action=False,
        summary="the MDM's acknowledgement of a migration notification",
    ),
    _category(
        "DCCCAND",
        "dcc",
        (_MSN, Column("mpxn", MPXN), _DMC, _TRANCHE),
        has_action=False,
        direction="outbound",
        summary="the candidate list of a tranche, to the DCC",
    ),
    _category(
        "CSNOTE",
        "cs",
        (_MSN, _TRANCHE, Column("note_code", CODE)),
        key=("msn", "tranche_id"),
        has_action=False,
        direction="outbound",
        summary="the CS note of a tranche, to Client Services",
    ),
    _category(
        "MDMNOTIF",
        "mdm",
        (_MSN, _TRANCHE, Column("migration_date", DATE)),
        key=("msn", "tranche_id"),
        has_action=False,
        direction="outbound",
        summary="the migration notification of a tranche, to the MDM",
    ),
)

CATEGORIES: dict[str, Category] = {category.name: category for category in _ALL_CATEGORIES}
INBOUND = tuple(name for name, category in CATEGORIES.items() if category.direction == "inbound")
OUTBOUND = tuple(name for name, category in CATEGORIES.items() if category.direction == "outbound")


def find(name: str) -> Category | None:
    """The category called ``name`` (ASCII, compared case-insensitively), or None."""
    return CATEGORIES.get(name.upper()) if name.isascii() else None
