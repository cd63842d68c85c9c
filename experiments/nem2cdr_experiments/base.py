"""What an experiment is, and the registry that lists them by id."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, TypeVar

from nem2cdr_experiments.data import UsageData


class Experiment(ABC):
    """A named encoding of ``UsageData``. Lossless ones decode back to the same data."""

    id: ClassVar[str]  # "00", "01", ...
    name: ClassVar[str]
    lossless: ClassVar[bool] = True
    rationale: ClassVar[str]  # one line, shown in the report
    suffix: ClassVar[str] = ".json"  # of the payload file --out-dir writes

    @abstractmethod
    def encode(self, data: UsageData) -> bytes: ...

    def decode(self, payload: bytes, source: str) -> UsageData:
        """The data back from ``payload``; only lossless experiments implement it."""
        raise NotImplementedError(f"experiment {self.id} ({self.name}) is lossy")

    def pages(self, data: UsageData, page_size: int) -> list[bytes] | None:
        """The payload split into response pages, for experiments that are CDR responses."""
        return None


REGISTRY: dict[str, Experiment] = {}
E = TypeVar("E", bound=type[Experiment])


def register(cls: E) -> E:
    """Class decorator: add one instance of the experiment to the registry under its id."""
    if cls.id in REGISTRY:
        raise ValueError(f"experiment id {cls.id} is taken by {REGISTRY[cls.id].name}")
    REGISTRY[cls.id] = cls()
    return cls
