"""Where an environment lives: its database and its landing folders (docs/mmtlite.md, "Environments
and folders").

``<home>/mmt_<env>.sqlite`` and ``<home>/<system>/<system_data>/<category>/{inbound,outbound}`` with
``system_data_build``, ``system_data_sogl`` or ``system_data`` (prod), as the original.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

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


def inbound_files(place: Place) -> list[Path]:
    """The files waiting in the inbound folders (hidden and partly copied ones left alone)."""
    files: list[Path] = []
    for name in INBOUND:
        folder = place.inbound(name)
        if folder.is_dir():
            files.extend(
                path
                for path in folder.iterdir()
                if path.is_file()
                and not path.name.startswith(".")
                and not path.name.endswith((".tmp", ".part"))
            )
    return files


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
