"""Every code mmtlite reports, in one catalogue: what each means, and who reports it.

``MMT-C...`` control failures refuse a whole file; ``MMT-R...`` row errors reject one row and
the rest of the file may load. Codes are stable: a code is never reused for another meaning.
(``tests/test_mmt_codes.py`` checks that every code here is reported by the library and
pinned by a test, and that the library reports no code missing from here.)
"""

from __future__ import annotations

# Reading and checking a file (``fileformat``).
C_UNREADABLE = "MMT-C001"
C_NAME = "MMT-C002"
C_EMPTY = "MMT-C003"
C_ENCODING = "MMT-C004"
C_NO_HEADER = "MMT-C005"
C_BAD_HEADER = "MMT-C006"
C_CATEGORY = "MMT-C007"
C_ENV = "MMT-C008"
C_NAME_MISMATCH = "MMT-C009"
C_NO_TRAILER = "MMT-C010"
C_TRAILER_NOT_LAST = "MMT-C011"
C_BAD_TRAILER = "MMT-C012"
C_COUNT = "MMT-C013"
C_SECOND_HEADER = "MMT-C014"
C_OTHER_ENV = "MMT-C015"
# The ledger's rules (``ledger``).
C_NAME_REUSED = "MMT-C016"
C_SEQUENCE_REUSED = "MMT-C017"
C_REPLAY = "MMT-C018"
C_GAP = "MMT-C019"
# Loading (``loader``, ``applying``).
C_BUDGET = "MMT-C020"
C_MASS_DELETE = "MMT-C021"
C_OUTBOUND = "MMT-C022"

# Rows (``fileformat``; R009 ``applying``; R010-R012 ``responses``).
R_COLUMN_COUNT = "MMT-R001"
R_BLANK_KEY = "MMT-R002"
R_BAD_KEY = "MMT-R003"
R_MISSING = "MMT-R004"
R_INVALID = "MMT-R005"
R_ACTION = "MMT-R006"
R_MIXED = "MMT-R007"
R_CONFLICT = "MMT-R008"
R_UNKNOWN_CODE = "MMT-R009"
R_UNKNOWN_TRANCHE = "MMT-R010"
R_NOT_IN_TRANCHE = "MMT-R011"
R_NOTHING_SENT = "MMT-R012"

CODES: dict[str, str] = {
    C_UNREADABLE: "the file cannot be read (missing, not a regular file, no permission, too big)",
    C_NAME: "the name is not <CATEGORY>_<ENV>_<YYYYMMDDHHMMSS>.<csv|txt>",
    C_EMPTY: "the file is empty",
    C_ENCODING: "the file is not UTF-8",
    C_NO_HEADER: "the first line is not a header",
    C_BAD_HEADER: "the header is malformed (delimiter, fields, sequence, created)",
    C_CATEGORY: "the header's category is unknown",
    C_ENV: "the header's environment is not BUILD, SOGL or PROD",
    C_NAME_MISMATCH: "the name's category or environment differs from the header's",
    C_NO_TRAILER: "the last line is not a trailer",
    C_TRAILER_NOT_LAST: "a trailer before the last line",
    C_BAD_TRAILER: "the trailer is malformed",
    C_COUNT: "the trailer's count differs from the detail rows",
    C_SECOND_HEADER: "a second header inside the file",
    C_OTHER_ENV: "the file is for another environment",
    C_NAME_REUSED: "a file of this name was loaded with other content",
    C_SEQUENCE_REUSED: "this sequence of the category was loaded from other content",
    C_REPLAY: "the sequence is older than the last one loaded (a replay)",
    C_GAP: "the sequence skips one or more files (a gap; --force if they will never come)",
    C_BUDGET: "more bad rows than the error budget allows",
    C_MASS_DELETE: "a file would remove more than the allowed share of its list (ALL or REMOVE)",
    C_OUTBOUND: "an outbound category: mmtlite writes these files, it does not load them",
    R_COLUMN_COUNT: "wrong number of columns",
    R_BLANK_KEY: "blank key",
    R_BAD_KEY: "malformed key",
    R_MISSING: "a required value is blank",
    R_INVALID: "invalid value for its column",
    R_ACTION: "unknown action",
    R_MIXED: "ALL mixed with ADD or REMOVE",
    R_CONFLICT: "the same key with conflicting data",
    R_UNKNOWN_CODE: "a coded column holds a code missing from the EXCLCODE list",
    R_UNKNOWN_TRANCHE: "a response names a tranche that was never selected",
    R_NOT_IN_TRANCHE: "a response names a meter that is not in that tranche",
    R_NOTHING_SENT: "a CS or MDM response for a meter whose note or notification was not sent",
}
