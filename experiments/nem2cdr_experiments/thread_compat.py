"""Experiments 00-07 as the 2022 thread's script wrote them (``--thread-compat``).

The published table came from a Perl script whose output differs from our 00-07 in ways that
move the figures (see docs/thread-2022.md). Written here from its observable behaviour:

- every JSON object's keys in a random order (Perl hashes): shuffled per object by a generator
  seeded from ``--seed``, the experiment and the NMI, so a run is reproducible and the same
  with any number of workers;
- interval values as ``sprintf("%.3g") + 0`` (three significant figures), printed as JSON::XS
  prints numbers (``%.15g``); ``aggregateValue`` the plain floating sum of the file's values;
- dates ``YYYYMMDD``; ``readIntervalLength`` a string (the file's text); ``servicePointId`` a
  random upper-case UUID, a new one per NMI in 00 and again in 06;
- a top-level list of records, no ``data`` wrapper;
- only ``F`` 400 records mark ``FINAL_SUBSTITUTE``; 04 keeps every read (its filtered list was
  never stored) and adds ``removedReads``, always; 06 takes the meter, unit and interval of its
  first register; 07 gives every register of a day the reads of all of them, in one list (its
  list was declared once per day, not per register).

Records are keyed by register id within an NMI, registers in a shuffled order and days in
ascending order. NMIs come in ascending order (the script's came in hash order: with one NMI,
as in the thread's file, there is no difference). None of these shapes is lossless.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import ClassVar

import msgspec

from nem2cdr_experiments.base import Experiment
from nem2cdr_experiments.data import DayRead, Totals, UsageData

# The gzip change against 00 (percent) that the thread published, where the sources this
# project can read quote it: the 2022 comment's table itself is not among them, only these two
# figures, cited in the thread's discussion (docs/thread-2022.md). The rest stay unknown (None):
# the report shows "?" rather than a guessed figure.
PUBLISHED_GZIP_CHANGE: dict[str, float] = {"01": -12.6, "07": -7.7}
PUBLISHED_CODEC = "gzip-6"  # the script's Gzip::Faster: zlib at its default level

Pairs = list[tuple[str, bytes]]
_text = msgspec.json.encode


def perl_number(value: float) -> bytes:
    """A number as JSON::XS writes a Perl numeric value: ``%.15g``."""
    return f"{value:.15g}".encode()


def three_figures(value: float) -> float:
    """``sprintf("%.3g", $value) + 0``."""
    return float(f"{value:.3g}")


class KeyHashes:
    """Perl's hash value of each key: random per process (per run here: from the seed)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(f"{seed}:keys")
        self.codes: dict[str, int] = {}

    def __getitem__(self, key: str) -> int:
        if key not in self.codes:
            self.codes[key] = self.random.getrandbits(32)
        return self.codes[key]


_FIRST_BUCKETS = 8


class Writer:
    """JSON with every object's keys in the order a Perl hash gives them (JSON::XS writes
    keys in iteration order): keys in buckets by their hash value, a bucket's keys in
    insertion order with a random flip on collision, the buckets visited XOR a random
    number per hash; the table doubles when keys + keys/2 pass its last bucket."""

    def __init__(self, seed: str, hashes: KeyHashes) -> None:
        self.random = random.Random(seed)
        self.hashes = hashes

    def order(self, keys: list[str]) -> list[str]:
        codes = [self.hashes[key] for key in keys]
        last = _FIRST_BUCKETS - 1
        buckets: list[list[int]] = [[] for _ in range(_FIRST_BUCKETS)]
        for count, index in enumerate(range(len(keys)), 1):
            chain = buckets[codes[index] & last]
            chain.insert(1 if chain and self.random.getrandbits(1) else 0, index)
            if count + count // 2 > last:
                last = last * 2 + 1
                old, buckets = buckets, [[] for _ in range(last + 1)]
                for chain in old:
                    for moved in chain:
                        buckets[codes[moved] & last].append(moved)
        start = self.random.getrandbits(32)
        return [keys[i] for b in range(last + 1) for i in buckets[(b ^ start) & last]]

    def object(self, pairs: Pairs) -> bytes:
        values = dict(pairs)
        keys = self.order([key for key, _ in pairs])
        return b"{" + b",".join(_text(key) + b":" + values[key] for key in keys) + b"}"

    def uuid(self) -> bytes:
        digits = f"{self.random.getrandbits(128):032X}"
        parts = (digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:])
        return _text("-".join(parts))


def ranges(positions: list[int]) -> list[str]:
    """The script's ``arrayToRanges``: runs of consecutive positions in the order given,
    joined into one string; no positions, no string."""
    runs: list[list[int]] = []
    for position in positions:
        if runs and position == runs[-1][1] + 1:
            runs[-1][1] = position
        else:
            runs.append([position, position])
    text = ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
    return [text] if runs else []


def finals(read: DayRead) -> list[int]:
    """Positions of FINAL_SUBSTITUTE intervals as the script found them: from F 400 records
    only, so a day that is F as a whole (its 300's QualityMethod, no 400) marks none."""
    whole_day = [(q.start, q.end) for q in read.qualities] == [(1, len(read.values))]
    if whole_day:
        return []
    return [
        position
        for q in read.qualities
        if q.quality == "FINAL_SUBSTITUTE"
        for position in range(q.start, q.end + 1)
    ]


def registers(part: UsageData, writer: Writer) -> list[list[DayRead]]:
    """One NMI's registers (keyed by register id, as the script's hash was) in a shuffled
    order, each register's days ascending."""
    by_id: dict[str, list[DayRead]] = {}
    for read in sorted(part.reads, key=lambda r: (r.suffix, r.date)):
        by_id.setdefault(read.register_id, []).append(read)  # the last suffix's days win
    kept = [[r for r in reads if r.suffix == reads[-1].suffix] for reads in by_id.values()]
    writer.random.shuffle(kept)
    return kept


def day_of(read: DayRead) -> bytes:
    return _text(read.date.replace("-", ""))


class CompatShape(Experiment):
    """One of 00-07 as the 2022 script wrote it (lossy: three significant figures)."""

    lossless = False
    prepared = ()  # its numbers are the script's own (%.15g, a floating sum)
    seed: ClassVar[int] = 0
    base: ClassVar[Experiment]  # the experiment it stands in for (id, name)
    write: ClassVar[Callable[[Writer, UsageData], list[bytes]]]

    def encode(self, data: UsageData) -> bytes:
        head, tail = self.frame(Totals(data.source, 0, 0, ""))
        parts = [self.encode_part(UsageData(data.source, r)) for r in _by_nmi(data)]
        return head + b",".join(part for part in parts if part) + tail

    def frame(self, totals: Totals) -> tuple[bytes, bytes]:
        return b"[", b"]"  # a top-level list: no data wrapper

    def encode_part(self, part: UsageData) -> bytes:
        nmi = part.reads[0].nmi if part.reads else ""
        writer = Writer(f"{self.seed}:{self.id}:{nmi}", KeyHashes(self.seed))
        return b",".join(type(self).write(writer, part))


def _by_nmi(data: UsageData) -> list[list[DayRead]]:
    groups: dict[str, list[DayRead]] = {}
    for read in data.reads:
        groups.setdefault(read.nmi, []).append(read)
    return list(groups.values())


# -- the records ---------------------------------------------------------------------------


def read_objects(writer: Writer, read: DayRead) -> list[bytes]:
    marked = set(finals(read))
    objects = []
    for position, value in enumerate(read.values, 1):
        number = perl_number(three_figures(value))
        if position in marked:
            objects.append(writer.object([("value", number), ("quality", b'"FINAL_SUBSTITUTE"')]))
        else:  # one key has one order: no hash to model
            objects.append(b'{"value":' + number + b"}")
    return objects


def plain_values(read: DayRead) -> bytes:
    return b"[" + b",".join(perl_number(three_figures(v)) for v in read.values) + b"]"


def total(read: DayRead) -> bytes:
    running = 0.0
    for value in read.values:  # in order, as the script added them
        running += value
    return perl_number(running)


def zero_positions(read: DayRead) -> list[int]:
    return [i for i, value in enumerate(read.values, 1) if not three_figures(value) > 0]


def flat(
    writer: Writer,
    part: UsageData,
    *,
    objects: bool,
    uom: bool = True,
    reads: bool = True,
    removed: bool = False,
) -> list[bytes]:
    """00-05: one record per register per day."""
    records = []
    service_point = writer.uuid()
    for days in registers(part, writer):
        for read in days:
            # Keys in the order the script inserted them (a bucket's order follows it).
            interval: Pairs = [("readIntervalLength", _text(str(read.interval_length)))]
            if reads and objects:
                interval.append(
                    ("intervalReads", b"[" + b",".join(read_objects(writer, read)) + b"]")
                )
            elif reads:
                interval.append(("intervalReads", plain_values(read)))
            interval.append(("aggregateValue", total(read)))
            if reads and not objects and finals(read):
                interval.append(("final_substitutes", _text(ranges(finals(read)))))
            if removed:
                interval.append(("removedReads", _text(ranges(zero_positions(read)))))
            pairs: Pairs = [
                ("servicePointId", service_point),
                ("registerId", _text(read.register_id)),
                ("registerSuffix", _text(read.suffix)),
                ("meterID", _text(read.meter_serial)),
                ("readStartDate", day_of(read)),
                ("unitOfMeasure", _text(read.uom)),
                ("readUType", b'"intervalRead"'),
                ("intervalRead", writer.object(interval)),
            ]
            if not uom:
                del pairs[5]
            records.append(writer.object(pairs))
    return records


def nested(writer: Writer, part: UsageData, *, objects: bool) -> list[bytes]:
    """06 and 07: one record per NMI per day, registers under their id."""
    records = []
    service_point = writer.uuid()
    kept = registers(part, writer)
    first = kept[0]
    by_day = [{read.date: read for read in days} for days in kept]
    for day in first:
        register_pairs: Pairs = []
        shared: list[bytes] = []  # 07: one list for the whole day, as the script had it
        positions: list[int] = []
        order = list(range(len(kept)))
        writer.random.shuffle(order)  # the decoded hash's order, when 07 walked it
        for index in order:
            read = by_day[index][day.date]
            fields: Pairs = [("suffix", _text(read.suffix)), ("aggregateValue", total(read))]
            if objects:
                fields.append(("reads", b"[" + b",".join(read_objects(writer, read)) + b"]"))
            else:
                shared.extend(perl_number(three_figures(v)) for v in read.values)
                positions.extend(finals(read))
                fields.append(("reads", b""))  # filled in below: the list as it ends
                if positions:
                    fields.append(("final_substitutes", _text(ranges(positions))))
            register_pairs.append((read.register_id, writer.object(fields)))
        body = writer.object(register_pairs)
        if not objects:
            body = body.replace(b'"reads":,', b'"reads":' + b"[" + b",".join(shared) + b"],")
            body = body.replace(b'"reads":}', b'"reads":' + b"[" + b",".join(shared) + b"]}")
        interval: Pairs = [
            ("readIntervalLength", _text(str(first[0].interval_length))),
            ("intervalReads", body),
        ]
        records.append(
            writer.object(
                [
                    ("servicePointId", service_point),
                    ("meterID", _text(first[0].meter_serial)),
                    ("readStartDate", day_of(day)),
                    ("unitOfMeasure", _text(first[0].uom)),
                    ("readUType", b'"intervalRead"'),
                    ("intervalRead", writer.object(interval)),
                ]
            )
        )
    return records


WRITERS: dict[str, Callable[[Writer, UsageData], list[bytes]]] = {
    "00": lambda w, p: flat(w, p, objects=True),
    "01": lambda w, p: flat(w, p, objects=False),
    "02": lambda w, p: flat(w, p, objects=False, uom=False),
    "03": lambda w, p: flat(w, p, objects=True, reads=False),
    "04": lambda w, p: flat(w, p, objects=True, removed=True),
    "05": lambda w, p: flat(w, p, objects=False, removed=True),
    "06": lambda w, p: nested(w, p, objects=True),
    "07": lambda w, p: nested(w, p, objects=False),
}


def compat(experiment: Experiment, seed: int) -> Experiment:
    """``experiment`` (one of 00-07) as the 2022 script wrote it; others as they are."""
    if experiment.id not in WRITERS:
        return experiment
    shape = type(
        f"Compat{experiment.id}",
        (CompatShape,),
        {
            "id": experiment.id,
            "name": experiment.name,
            "rationale": f"{experiment.rationale} (as the 2022 script wrote it)",
            "suffix": experiment.suffix,
            "seed": seed,
            "write": staticmethod(WRITERS[experiment.id]),
        },
    )
    return shape()  # type: ignore[no-any-return]
