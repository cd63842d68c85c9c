"""Where an environment lives: its database and its landing folders (docs/mmtlite.md, "Environments
and folders").

``<home>/mmt_<env>.sqlite`` and ``<home>/<system>/<system_data>/<category>/{inbound,outbound}`` with
``system_data_build``, ``system_data_sogl`` or ``system_data`` (prod), as the original.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

import msgspec

from mmtlite.categories import CATEGORIES, INBOUND

Env = Literal["build", "sogl", "prod"]
ENVS: tuple[Env, ...] = ("build", "sogl", "prod")
SYSTEMS = ("dcc", "cs", "mdm", "mmt")
_SYSTEM_DATA: dict[Env, str] = {
    "build": "system_data_build",
    "sogl": "system_data_sogl",
    "prod": "system_data",
}


def home(given: str | os.PathLike[str] | None = None) -> Path:
    """``--home``, else ``$MMTLITE_HOME``, else ``./mmt``."""
    if given is not None:
        return Path(given)
    return Path(os.environ.get("MMTLITE_HOME") or "mmt")


class Place:
    """The paths of one environment under one home."""

    def __init__(self, root: Path, env: Env) -> None:
        if env not in ENVS:
            raise ValueError(f"unknown environment {env!r}: use build, sogl or prod")
        self.root = root
        self.env = env

    @property
    def database(self) -> Path:
        return self.root / f"mmt_{self.env}.sqlite"

    @property
    def lock(self) -> Path:
        return self.root / f"mmt_{self.env}.lock"

    @property
    def numbering_lock(self) -> Path:
        """Held while an inbound file is given its sequence and name, and written (``wrap``,
        ``respond``): apart from the writer lock, so a wrap never makes a load busy."""
        return self.root / f"mmt_{self.env}.inbound.lock"

    @property
    def own_files(self) -> tuple[Path, ...]:
        """The database, its journals and the locks: no output may be written over them."""
        database = self.database
        journals = (
            database.with_name(f"{database.name}{end}") for end in ("-wal", "-shm", "-journal")
        )
        return (database, *journals, self.lock, self.numbering_lock)

    def folder(self, system: str, category: str, direction: Literal["inbound", "outbound"]) -> Path:
        if system not in SYSTEMS:
            raise ValueError(f"unknown system {system!r}")
        return self.root / system / _SYSTEM_DATA[self.env] / category.lower() / direction

    def inbound(self, category: str) -> Path:
        """Where files of the inbound ``category`` (its name) land."""
        return self.folder(CATEGORIES[category].system, category, "inbound")


def create_folders(place: Place) -> list[Path]:
    """Every landing folder of the environment: inbound for inbound categories, outbound for
    outbound ones."""
    folders = [place.folder(spec.system, spec.name, spec.direction) for spec in CATEGORIES.values()]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


NOT_UTF8 = "its name is not UTF-8: rename it"


class PassedOver(msgspec.Struct):
    """An entry of an inbound folder (or a path given) that is no file to load: said by name,
    left where it is, and the rest loads."""

    path: str  # printable: bytes that are not UTF-8 shown as \\x escapes
    why: str


def inbound_files(place: Place) -> list[Path]:
    """The files waiting in the inbound folders (see ``inbound_entries``)."""
    return inbound_entries(place)[0]


def inbound_entries(place: Place) -> tuple[list[Path], list[PassedOver]]:
    """The files waiting in the inbound folders, and the entries passed over: folders, links
    to nothing, FIFOs and devices, names that are not UTF-8. Hidden and partly copied files
    (``.tmp``, ``.part``) are left alone without a word: they are on their way."""
    files: list[Path] = []
    passed: list[PassedOver] = []
    for name in INBOUND:
        folder = place.inbound(name)
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.name.endswith((".tmp", ".part")):
                continue
            why = why_not_a_file(path)
            if why:
                passed.append(PassedOver(shown(path), why))
            else:
                files.append(path)
    return files, passed


def why_not_a_file(path: Path) -> str:
    """Why ``path`` is no file to load ("" when it is one, or cannot be told without reading)."""
    if not is_utf8(path):
        return NOT_UTF8
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"a link to nothing ({shown(os.readlink(path))})"
        return ""
    except OSError:
        return ""  # reading it says why
    if stat.S_ISDIR(mode):
        return "a folder"
    if not stat.S_ISREG(mode):
        return "a FIFO (pipe)" if stat.S_ISFIFO(mode) else "a device or a socket"
    return ""


def is_utf8(path: str | os.PathLike[str]) -> bool:
    """Whether the name's bytes are UTF-8 (Python keeps other bytes as lone surrogates, which
    neither SQLite nor a terminal can take)."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(path: str | os.PathLike[str]) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 as escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def is_database_file(root: Path, path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is (or, not there yet, would be) a database, journal or lock file of an
    environment under ``root``: the same file by inode, or the same resolved path."""
    target = Path(path)
    for env in ENVS:
        for own in Place(root, env).own_files:
            if target.resolve() == own.resolve():
                return True
            try:
                if os.path.samefile(target, own):
                    return True
            except OSError:  # one of them does not exist: not the same file
                pass
    return False
