"""What an experiment is, and the registry that lists them by id."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, TypeVar

from nem2cdr_experiments.data import Prepared, Totals, UsageData, totals_of


class NotApplicable(ValueError):
    """The experiment cannot encode this file's data at all (MIN_30 sums of 60-minute reads):
    reported as not applicable, which is neither a result nor a failure."""


class Experiment(ABC):
    """A named encoding of ``UsageData``. Lossless ones decode back to the same data."""

    id: ClassVar[str]  # "00", "01", ...
    name: ClassVar[str]
    lossless: ClassVar[bool] = True
    rationale: ClassVar[str]  # one line, shown in the report
    suffix: ClassVar[str] = ".json"  # of the payload file --out-dir writes
    # The reads' shared derived values the encoder uses (``DayRead.places``, ``aggregate``,
    # ``signed_text``): the runner computes them once per part and charges their time to each
    # experiment that uses them, so each one's encode time is what it would take alone.
    prepared: ClassVar[tuple[Prepared, ...]] = ("aggregate", "signed_text")

    @abstractmethod
    def encode(self, data: UsageData) -> bytes: ...

    def decode(self, payload: bytes, source: str) -> UsageData:
        """The data back from ``payload``; only lossless experiments implement it."""
        raise NotImplementedError(f"experiment {self.id} ({self.name}) is lossy")

    # -- streaming: a payload is its frame's head, its parts joined by ``separator``, its tail --

    separator: ClassVar[bytes] = b","

    def frame(self, totals: Totals) -> tuple[bytes, bytes]:
        """What the whole payload writes before its first record and after its last.

        By default what ``encode`` writes around no data, split at its empty list: the shapes
        whose records sit in one JSON list (``{"data":{"reads":[`` ... ``]}}``).
        """
        empty = self.encode(UsageData(totals.source, []))
        head, found, tail = empty.partition(b"[]")
        if not found:
            raise NotImplementedError(f"experiment {self.id} must define its frame")
        return head + b"[", b"]" + tail

    def encode_part(self, part: UsageData) -> bytes:
        """The records of ``part`` (one NMI's reads) as they sit inside the whole payload."""
        whole = self.encode(part)
        head, tail = self.frame(totals_of(part))
        return whole[len(head) : len(whole) - len(tail)]

    def decode_part(self, records: bytes, part: UsageData) -> UsageData:
        """``encode_part(part)``'s records back, decoded inside the frame of a payload of them
        (``part`` gives only the frame's counts)."""
        head, tail = self.frame(totals_of(part))
        return self.decode(head + records + tail, part.source)

    def first_page(self, first: UsageData, totals: Totals, page_size: int) -> bytes | None:
        """The first response page of ``page_size`` records (``first`` holds them), for the
        experiments that are CDR responses."""
        return None


REGISTRY: dict[str, Experiment] = {}
E = TypeVar("E", bound=type[Experiment])


def register(cls: E) -> E:
    """Class decorator: add one instance of the experiment to the registry under its id."""
    if cls.id in REGISTRY:
        raise ValueError(f"experiment id {cls.id} is taken by {REGISTRY[cls.id].name}")
    REGISTRY[cls.id] = cls()
    return cls
