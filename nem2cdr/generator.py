"""Realistic synthetic NEM12 data, deterministic from a seed.

Each NMI is a house in one region (all houses see the same weather): a general consumption
stream ``E1``, with solar an export stream ``B1``, and on some NMIs a controlled-load stream
``E2`` (an off-peak hot water element). Load has morning and evening peaks, low nights,
weekends, heating in winter, cooling in summer, appliance spikes and the odd holiday away.
Solar follows the day length and sun angle of the season (market time, AEST, about Sydney's
latitude), with clear, partly cloudy and overcast days. ``E1`` and ``B1`` are the net of the
two, as a bidirectional meter records them: a sunny midday imports almost nothing.

A few per cent of days are substituted: whole days flagged ``S53``, ``F14`` or ``E52``, or
``V`` days whose 400 ranges mark a power outage (zeros) or a communications fault (a smooth
estimate) inside an otherwise actual day. Some substituted days carry a special read (500).

Every number comes from ``random.Random`` instances seeded from ``seed``; NMI ``k`` gets the
same data whatever the number of NMIs, and the global RNG is never touched.
"""

from __future__ import annotations

import math
import os
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, NamedTuple, cast

from nem2cdr.model import B2BDetail, Header, IntervalDay, QualitySpan, Stream
from nem2cdr.targets import Target, opened
from nem2cdr.writer import write_nem12

__all__ = ["generate", "generate_days"]

_DAY_MINUTES = 1440
_SOLAR_NOON = 11 * 60 + 55.0  # minutes after midnight, AEST, near Sydney's longitude
_SUBSTITUTED_DAYS = 0.012  # chance that a day starts a run of whole-day substitutes
_VARIABLE_DAYS = 0.02  # chance that a day has substituted ranges (a V day)
_COMMS_FAULT = "Communications Fault"


@dataclass(frozen=True)
class _House:
    """The fixed habits and equipment of one NMI."""

    nmi: str
    serial: str
    suffixes: tuple[str, ...]  # in file order
    base_kw: float  # always-on load: fridge, standby
    morning_kw: float
    morning_at: float  # minutes after midnight
    evening_kw: float
    evening_at: float
    daytime_kw: float  # someone at home during the day
    heating_kw: float  # at full cold
    cooling_kw: float  # at full heat
    pv_kw: float  # inverter output at a clear summer noon; 0 without solar
    pv_skew: float  # panels facing east (< 0) or west (> 0) shift output to morning/afternoon
    hot_water_kw: float  # controlled-load element; 0 without E2
    hot_water_opens: int  # minute the off-peak window opens (the element may run past midnight)
    hot_water_hours: float  # a typical night's heating time
    registers: tuple[float, ...]  # starting meter index of each stream, for 500 records
    away: tuple[tuple[int, int], ...]  # holidays: (first day index, number of days)


class _Weather(NamedTuple):
    warmth: float  # about -1.5 (cold winter day) .. 1.5 (hot summer day)
    sun: float  # share of clear-sky solar output
    flicker: float  # how much passing clouds vary it interval to interval (0..1)


class _Condition(NamedTuple):
    """How the MDP flagged one NMI's day; a meter's streams all share it."""

    quality_method: str
    reason_code: int | None
    reason_description: str
    spans: tuple[tuple[int, int, str, int | None, str], ...]  # 1-based, covering 1..N
    replaced: tuple[tuple[int, int, bool], ...]  # 0-based slices substituted: (a, b, zeros?)
    update: datetime
    msats: datetime
    special_read: tuple[str, datetime] | None  # (service order, read time): a 500 record


class _Sky(NamedTuple):
    """Clear-sky solar output of one day of the year, shared by all houses."""

    output: list[float]  # Wh per interval for 1 kW at a clear summer noon, 0 outside daylight
    tilt: list[float]  # added ``skew`` times: panels facing east (< 0) or west (> 0)


class _Shapes(NamedTuple):
    """A house's load curves in Wh per interval, computed once per house."""

    weekday: list[float]
    weekend: list[float]
    heating: list[float]
    cooling: list[float]
    away: list[float]


def generate_days(
    *,
    nmis: int = 1,
    days: int = 365,
    interval: int = 30,
    start: date = date(2024, 1, 1),
    seed: int = 0,
    solar: bool = True,
    controlled_load: bool | None = None,
) -> Iterator[IntervalDay]:
    """Synthetic interval days: NMI by NMI, stream by stream, day by day (the MDP layout).

    ``controlled_load`` gives every NMI an ``E2`` stream (True), none (False), or every third
    NMI (None). The ``line`` fields are the lines the records get in the file ``generate``
    writes, so these days equal what the reader reads back from it.
    """
    if interval <= 0 or _DAY_MINUTES % interval:
        raise ValueError(f"interval {interval} does not divide a day of 1440 minutes")
    if nmis < 0 or days < 0:
        raise ValueError("nmis and days must not be negative")
    master = random.Random(seed)
    weather = _weather(random.Random(master.getrandbits(64)), start, days)
    house_seeds = [master.getrandbits(64) for _ in range(nmis)]
    layout = _Layout(interval)
    sky_cache: dict[int, _Sky] = {}
    for index, house_seed in enumerate(house_seeds):
        rng = random.Random(house_seed)
        with_e2 = index % 3 == 2 if controlled_load is None else controlled_load
        house = _house(rng, index + 1, days, solar=solar, controlled_load=with_e2)
        yield from _house_streams(house, rng, weather, start, interval, layout, sky_cache)


def generate(
    out: Target,
    *,
    nmis: int = 1,
    days: int = 365,
    interval: int = 30,
    start: date = date(2024, 1, 1),
    seed: int = 0,
    solar: bool = True,
    controlled_load: bool | None = None,
    as_zip: bool = False,
) -> None:
    """Write a synthetic NEM12 file (CRLF, one 100..900 block), streaming: what
    ``nem2cdr generate`` does. The same arguments always give the same bytes.

    ``out`` is a path (written whole or not at all), ``"-"`` or an open binary stream. With
    ``as_zip``, a .zip holding the CSV, named after ``out`` (``NEM12.csv`` for a stream).
    """
    records = generate_days(
        nmis=nmis,
        days=days,
        interval=interval,
        start=start,
        seed=seed,
        solar=solar,
        controlled_load=controlled_load,
    )
    header = Header("NEM12", _file_created(start, days), "NEM2CDR", "SAMPLE", 1)
    with opened(out) as stream:
        if not as_zip:
            write_nem12(stream, records, header)
            return
        with (
            zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open(_member_name(out), "w", force_zip64=True) as inner,
        ):
            write_nem12(cast(BinaryIO, inner), records, header)


def _member_name(out: Target) -> str:
    """The CSV's name inside a generated zip: the zip's own name as .csv."""
    if not isinstance(out, (str, os.PathLike)) or os.fspath(out) == "-":
        return "NEM12.csv"
    member = Path(out).stem
    return member if member.lower().endswith(".csv") else f"{member}.csv"


def _file_created(start: date, days: int) -> datetime:
    """The MDP writes the file early on the morning after the last day."""
    return datetime.combine(start + timedelta(days=days), datetime.min.time()) + timedelta(hours=6)


# -- the houses and their weather ------------------------------------------------------------


def _house(
    rng: random.Random, number: int, days: int, *, solar: bool, controlled_load: bool
) -> _House:
    suffixes = ("E1", *(("E2",) if controlled_load else ()), *(("B1",) if solar else ()))
    away: list[tuple[int, int]] = []
    for year_start in range(0, days, 365):
        if rng.random() < 0.7:  # most households go away once a year
            away.append((year_start + rng.randrange(365), rng.randint(4, 16)))
    return _House(
        nmi=f"6102{number:06d}",  # 10 characters, CitiPower's 6102 prefix
        serial=f"{rng.randrange(10**7, 10**8)}",
        suffixes=suffixes,
        base_kw=rng.uniform(0.12, 0.4),
        morning_kw=rng.uniform(0.4, 1.3),
        morning_at=rng.uniform(6.25, 8.0) * 60,
        evening_kw=rng.uniform(0.9, 2.2),
        evening_at=rng.uniform(17.75, 19.75) * 60,
        daytime_kw=rng.uniform(0.05, 0.6),
        heating_kw=rng.uniform(0.5, 2.5),
        cooling_kw=rng.uniform(0.5, 3.0),
        pv_kw=rng.choice((2.5, 3.3, 4.0, 5.0, 5.0, 6.0, 8.0)) if solar else 0.0,
        pv_skew=rng.uniform(-0.5, 0.5),
        hot_water_kw=rng.choice((1.8, 2.4, 3.6, 3.6, 4.8)) if controlled_load else 0.0,
        hot_water_opens=rng.choice((22 * 60, 22 * 60 + 30, 23 * 60)),
        hot_water_hours=rng.uniform(1.5, 3.0),
        registers=tuple(rng.uniform(1000, 60000) for _ in suffixes),
        away=tuple(away),
    )


def _weather(rng: random.Random, start: date, days: int) -> list[_Weather]:
    """Day-to-day weather: warm spells and cloudy spells last a few days (AR(1) / Markov)."""
    result: list[_Weather] = []
    anomaly = 0.0
    sky = 0  # 0 clear, 1 partly cloudy, 2 overcast
    for offset in range(days):
        season = _season(start + timedelta(days=offset))
        anomaly = 0.7 * anomaly + rng.gauss(0.0, 0.3)
        if rng.random() > 0.55:  # the sky changes; otherwise yesterday's persists
            sky = rng.choices((0, 1, 2), weights=(0.5, 0.32, 0.18))[0]
        if sky == 0:
            sun, flicker = rng.uniform(0.9, 1.0), 0.05
        elif sky == 1:
            sun, flicker = rng.uniform(0.6, 0.9), rng.uniform(0.3, 0.7)
        else:
            sun, flicker = rng.uniform(0.12, 0.4), rng.uniform(0.1, 0.4)
        result.append(_Weather(0.9 * season + anomaly, sun, flicker))
    return result


def _season(day: date) -> float:
    """1 in mid January (southern summer), -1 in mid July."""
    return math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)


def _bump(minute: float, at: float, width: float) -> float:
    return math.exp(-0.5 * ((minute - at) / width) ** 2)


def _shapes(house: _House, interval: int) -> _Shapes:
    """Expected load per interval (kW at the interval's middle, times its hours, in Wh)."""
    wh = interval / 60 * 1000  # kW -> Wh per interval
    mids = [(k + 0.5) * interval for k in range(_DAY_MINUTES // interval)]

    def curve(morning_at: float, daytime: float) -> list[float]:
        return [
            wh
            * (
                house.base_kw
                + house.morning_kw * _bump(m, morning_at, 55)
                + house.evening_kw * _bump(m, house.evening_at, 110)
                + daytime * _bump(m, 13 * 60, 180)
                + 0.25 * _bump(m, 21.5 * 60, 60)  # television and lights before bed
            )
            for m in mids
        ]

    return _Shapes(
        weekday=curve(house.morning_at, house.daytime_kw),
        # Later, slower mornings and people at home in the day.
        weekend=curve(house.morning_at + 75, house.daytime_kw + 0.5),
        heating=[
            wh * house.heating_kw * (_bump(m, 7 * 60, 70) + _bump(m, 19.5 * 60, 150)) for m in mids
        ],
        cooling=[wh * house.cooling_kw * _bump(m, 17.5 * 60, 200) for m in mids],
        away=[wh * house.base_kw] * len(mids),
    )


def _clear_sky(day: date, interval: int) -> _Sky:
    """Solar output per interval for 1 kW at a clear summer noon, in Wh (0 outside daylight)."""
    phase = 2 * math.pi * (day.timetuple().tm_yday - 355) / 365.25  # 0 at the summer solstice
    daylight = (12.15 + 2.2 * math.cos(phase)) * 60  # minutes, about Sydney's latitude
    peak = 0.8 + 0.2 * math.cos(phase)  # a lower sun in winter
    sunrise = _SOLAR_NOON - daylight / 2
    wh = interval / 60 * 1000
    output: list[float] = []
    tilt: list[float] = []
    for k in range(_DAY_MINUTES // interval):
        x = ((k + 0.5) * interval - sunrise) / daylight
        clear = wh * peak * math.sin(math.pi * x) ** 2 if 0.0 < x < 1.0 else 0.0
        output.append(clear)
        tilt.append(clear * (x - 0.5))
    return _Sky(output, tilt)


# -- one house's days ------------------------------------------------------------------------


class _Layout:
    """Builds the model records and numbers them with the lines they get in the file."""

    def __init__(self, interval: int) -> None:
        self.interval = interval
        self.count = _DAY_MINUTES // interval
        self.line = 1  # the 100 header

    def stream(self, house: _House, index: int) -> Stream:
        self.line += 1
        suffix = house.suffixes[index]
        return Stream(
            house.nmi,
            "".join(house.suffixes),
            suffix,
            suffix,
            f"N{index + 1}",
            house.serial,
            "kWh",
            "kWh",
            self.interval,
            None,
            self.line,
        )

    def day(
        self,
        stream: Stream,
        when: date,
        values: list[float],
        condition: _Condition,
        index_read: str,
    ) -> IntervalDay:
        self.line += 1
        day_line = self.line
        qualities = []
        for first, last, method, code, text in condition.spans:
            if condition.quality_method == "V":  # each range is a 400 record of its own
                self.line += 1
            qualities.append(QualitySpan(first, last, method, code, text, self.line))
        b2b: tuple[B2BDetail, ...] = ()
        if condition.special_read is not None:
            self.line += 1
            order, read_at = condition.special_read
            b2b = (B2BDetail("S", order, read_at, index_read, self.line),)
        return IntervalDay(
            stream,
            when,
            values,
            condition.quality_method,
            condition.reason_code,
            condition.reason_description,
            tuple(qualities),
            condition.update,
            condition.msats,
            b2b,
            day_line,
        )


def _house_streams(
    house: _House,
    rng: random.Random,
    weather: list[_Weather],
    start: date,
    interval: int,
    layout: _Layout,
    sky_cache: dict[int, _Sky],
) -> Iterator[IntervalDay]:
    """The house's days in file order. Later streams wait in memory while E1 is yielded:
    all streams come from one simulation of the house (E1 and B1 are two sides of one net flow).
    """
    shapes = _shapes(house, interval)
    registers = list(house.registers)
    pending: list[list[tuple[date, list[float], _Condition, str]]] = [[] for _ in house.suffixes]
    simulation = _Simulation(house, shapes, rng, interval, sky_cache)
    conditions = _Conditions(rng, layout.count, _file_created(start, len(weather)))
    stream = layout.stream(house, 0)
    for offset, today in enumerate(weather):
        when = start + timedelta(days=offset)
        condition = conditions.next(when)
        streams = simulation.day(when, offset, today, condition.replaced)
        for index, values in enumerate(streams):
            # A meter index: the register before the day plus what the day adds.
            registers[index] += sum(values)
            entry = (when, values, condition, f"{registers[index]:.0f}")
            if index == 0:
                yield layout.day(stream, *entry)
            else:
                pending[index].append(entry)
    for index in range(1, len(house.suffixes)):
        stream = layout.stream(house, index)
        for entry in pending[index]:
            yield layout.day(stream, *entry)
        pending[index].clear()


class _Simulation:
    """One house, day by day: load, solar, hot water, and the meter's view of them."""

    def __init__(
        self,
        house: _House,
        shapes: _Shapes,
        rng: random.Random,
        interval: int,
        sky_cache: dict[int, _Sky],
    ) -> None:
        self.house = house
        self.shapes = shapes
        self.rng = rng
        self.interval = interval
        self.count = _DAY_MINUTES // interval
        self.sky_cache = sky_cache
        # Averaging over longer intervals smooths the minute-to-minute jitter.
        self.jitter = 0.5 * math.sqrt(5 / interval)
        self.hot_water_carry = 0.0  # minutes of last night's run that fall after midnight
        self.away_days = {first + k for first, length in house.away for k in range(length)}

    def day(
        self,
        when: date,
        offset: int,
        weather: _Weather,
        replaced: tuple[tuple[int, int, bool], ...],
    ) -> list[list[float]]:
        """The values of each stream (in suffix order), in kWh with 3 decimals."""
        expected = self._expected_load(when, offset, weather)
        load = self._actual_load(expected, offset)
        solar = self._solar(when, weather) if self.house.pv_kw else None
        streams = [*_net(load, solar)]
        if replaced:
            estimate = _net(expected, self._solar(when, weather, smooth=True) if solar else None)
            for a, b, zeros in replaced:
                for values, smooth in zip(streams, estimate, strict=True):
                    values[a:b] = [0.0] * (b - a) if zeros else smooth[a:b]
        if self.house.hot_water_kw:
            hot_water = self._hot_water(weather)
            for a, b, zeros in replaced:
                if zeros:  # an outage stops the element too; otherwise the timer's run stands
                    hot_water[a:b] = [0.0] * (b - a)
            streams.insert(1, hot_water)
        return streams

    def _expected_load(self, when: date, offset: int, weather: _Weather) -> list[float]:
        shapes = self.shapes
        if offset in self.away_days:
            return shapes.away
        base = shapes.weekend if when.weekday() >= 5 else shapes.weekday
        heat = max(0.0, -0.25 - weather.warmth)
        cool = max(0.0, weather.warmth - 0.55)
        if not heat and not cool:
            return base
        return [
            b + heat * h + cool * c
            for b, h, c in zip(base, shapes.heating, shapes.cooling, strict=True)
        ]

    def _actual_load(self, expected: list[float], offset: int) -> list[float]:
        r = self.rng.random
        low, spread = 1 - self.jitter / 2, self.jitter
        load = [x * (low + spread * r()) for x in expected]
        if offset not in self.away_days:
            self._appliances(load)
        return load

    def _appliances(self, load: list[float]) -> None:
        """Kettles, ovens, washing: short high-power spikes, mostly mornings and evenings."""
        rng = self.rng
        interval = self.interval
        for _ in range(rng.randint(2, 7)):
            at = rng.choice((7 * 60, 8 * 60, 12 * 60, 17 * 60 + 30, 18 * 60 + 30, 20 * 60))
            begin = max(0, min(_DAY_MINUTES - 1, int(rng.gauss(at, 50))))
            kw, minutes = rng.choice(((2.2, 4), (2.4, 45), (0.5, 70), (1.8, 30), (1.2, 25)))
            end = min(_DAY_MINUTES, begin + minutes)
            wh_per_minute = kw * 1000 / 60
            for k in range(begin // interval, (end - 1) // interval + 1):
                overlap = min(end, (k + 1) * interval) - max(begin, k * interval)
                load[k] += overlap * wh_per_minute

    def _solar(self, when: date, weather: _Weather, *, smooth: bool = False) -> list[float]:
        day_of_year = when.timetuple().tm_yday
        sky = self.sky_cache.get(day_of_year)
        if sky is None:
            sky = self.sky_cache[day_of_year] = _clear_sky(when, self.interval)
        scale = self.house.pv_kw * weather.sun
        skew = self.house.pv_skew
        if smooth:
            scale *= 1 - weather.flicker / 2
            return [(p + skew * t) * scale for p, t in zip(*sky, strict=True)]
        r = self.rng.random
        flicker = weather.flicker
        return [
            (p + skew * t) * scale * (1 - flicker * r()) if p else 0.0
            for p, t in zip(*sky, strict=True)
        ]

    def _hot_water(self, weather: _Weather) -> list[float]:
        """The element runs from the window's opening until the tank is hot, past midnight."""
        rng = self.rng
        interval = self.interval
        minutes = [0.0] * self.count
        _add_minutes(minutes, 0, self.hot_water_carry, interval)
        run = self.house.hot_water_hours * 60 * (1 + 0.4 * max(0.0, -weather.warmth))
        run *= rng.uniform(0.75, 1.25)
        opens = self.house.hot_water_opens + rng.randrange(0, 20)
        tonight = min(run, _DAY_MINUTES - opens)
        _add_minutes(minutes, opens, tonight, interval)
        self.hot_water_carry = run - tonight
        if rng.random() < 0.3:  # a short thermostat top-up before dawn
            _add_minutes(minutes, rng.randrange(4 * 60, 6 * 60), rng.uniform(10, 30), interval)
        wh_per_minute = self.house.hot_water_kw * 1000 / 60
        # A top-up overlapping the night's run still heats with one element.
        return [int(min(m, interval) * wh_per_minute + 0.5) / 1000 for m in minutes]


def _add_minutes(minutes: list[float], begin: float, length: float, interval: int) -> None:
    """Add ``length`` minutes of running from ``begin`` to the per-interval minute counts."""
    end = min(float(_DAY_MINUTES), begin + length)
    k = int(begin // interval)
    while begin < end:
        step = min(end, (k + 1) * interval) - begin
        minutes[k] += step
        begin += step
        k += 1


def _net(load: list[float], solar: list[float] | None) -> list[list[float]]:
    """What the meter records, in kWh with 3 decimals: import (E1) and, with solar, export (B1).

    ``int(x + 0.5) / 1000`` rounds Wh to whole Wh; the division yields the float nearest the
    3-decimal number, whose repr is that number.
    """
    if solar is None:
        return [[int(x + 0.5) / 1000 for x in load]]
    return [
        [int(x - p + 0.5) / 1000 if x > p else 0.0 for x, p in zip(load, solar, strict=True)],
        [int(p - x + 0.5) / 1000 if p > x else 0.0 for x, p in zip(load, solar, strict=True)],
    ]


# -- quality ---------------------------------------------------------------------------------


class _Conditions:
    """Decides, day by day, how a meter's data was flagged, and when it was loaded."""

    _WHOLE_DAY = (("S53", 76, _COMMS_FAULT), ("F14", 76, _COMMS_FAULT), ("E52", None, ""))

    def __init__(self, rng: random.Random, count: int, file_created: datetime) -> None:
        self.rng = rng
        self.count = count
        self.latest_update = file_created - timedelta(hours=1)
        self.whole_day_left = 0
        self.whole_day: tuple[str, int | None, str] = self._WHOLE_DAY[0]

    def next(self, when: date) -> _Condition:
        rng = self.rng
        if self.whole_day_left == 0 and rng.random() < _SUBSTITUTED_DAYS:
            # A meter that stops talking stays silent for a day or three.
            self.whole_day_left = rng.randint(1, 3)
            self.whole_day = rng.choice(self._WHOLE_DAY)
            return self._whole_day(when, first=True)
        if self.whole_day_left:
            return self._whole_day(when, first=False)
        if rng.random() < _VARIABLE_DAYS:
            return self._variable_day(when)
        update = self._loaded(when, days_later=1)
        spans = ((1, self.count, "A", None, ""),)
        return _Condition("A", None, "", spans, (), update, self._msats(update), None)

    def _whole_day(self, when: date, *, first: bool) -> _Condition:
        rng = self.rng
        self.whole_day_left -= 1
        method, code, text = self.whole_day
        if method[0] == "E":  # a forward estimate is made before the day
            update = self._loaded(when, days_later=0)
        else:
            update = self._loaded(when, days_later=1 if method[0] == "S" else rng.randint(3, 7))
        special_read = None
        if first and method[0] != "E" and rng.random() < 0.5:
            # The retailer sends someone to read the silent meter.
            read_at = datetime.combine(when, datetime.min.time()) + timedelta(
                minutes=rng.randrange(9 * 60, 16 * 60)
            )
            special_read = (f"{rng.randrange(10**9, 10**10)}", read_at)
        spans = ((1, self.count, method, code, text),)
        replaced = ((0, self.count, False),)
        return _Condition(
            method, code, text, spans, replaced, update, self._msats(update), special_read
        )

    def _variable_day(self, when: date) -> _Condition:
        """An actual day with one or two substituted ranges: 2 to 4 400 records."""
        rng = self.rng
        count = self.count
        longest = max(1, count // 4)  # up to six hours
        length = rng.randint(1, longest)
        begin = rng.randrange(0, count - length + 1)
        outage = rng.random() < 0.5
        method, code, text = ("S53", 79, "") if outage else ("F14", 76, _COMMS_FAULT)
        problems = [(begin, begin + length, method, code, text, outage)]
        if begin + length < count - 1 and begin > 0 and rng.random() < 0.3:
            # Data stopped again before midnight: A, X, A, Y.
            tail = rng.randint(begin + length + 1, count - 1)
            problems.append((tail, count, "S53", 76, _COMMS_FAULT, False))
        spans: list[tuple[int, int, str, int | None, str]] = []
        cursor = 0
        for a, b, method, code, text, _ in problems:
            if a > cursor:
                spans.append((cursor + 1, a, "A", None, ""))
            spans.append((a + 1, b, method, code, text))
            cursor = b
        if cursor < count:
            spans.append((cursor + 1, count, "A", None, ""))
        replaced = tuple((a, b, zeros) for a, b, _, _, _, zeros in problems)
        update = self._loaded(when, days_later=1)
        return _Condition("V", None, "", tuple(spans), replaced, update, self._msats(update), None)

    def _loaded(self, when: date, *, days_later: int) -> datetime:
        """Data is processed overnight, between 01:00 and 04:00, some days after the day."""
        midnight = datetime.combine(when + timedelta(days=days_later), datetime.min.time())
        update = midnight + timedelta(seconds=self.rng.randrange(3600, 4 * 3600))
        return min(update, self.latest_update)

    def _msats(self, update: datetime) -> datetime:
        return update + timedelta(seconds=self.rng.randrange(5 * 60, 90 * 60))
