"""A realistic synthetic set of inbound files for any number of meters, deterministic from a seed.

One file per list category, sequence 1, action ``ALL``, in load order (codes and product lists
before the meters, the meters before their exclusions), each created one second after the one
before: ``EXCLCODE``, ``DMCT``, ``EPCL``, ``MMT``, ``NONCOMM``, ``MANEXCL``, ``TODO``,
``STATUSCHG``. The same arguments give byte-identical files: every choice comes from one
``random.Random(seed)``, never from the clock.

What the data looks like (where docs/mmtlite.md is silent):

- Sites: 40% one meter (mostly electricity only, a few gas only), 55% two (mostly dual fuel, one
  E and one G; some with two electricity meters), 4% three and 1% four meters. Electricity meters
  come first at a site. The master list is grouped by site, sites in the order drawn, so it is
  sorted neither by MSN nor by site.
- MSNs are unique by construction: a serial counter per fuel, scattered by a shuffle of its
  range that never repeats a value. Electricity: year of manufacture, the maker's letter and 8
  digits (``16L04718233``); gas: the maker's three characters, 8 digits and the year
  (``E6S0471823316``). Site ids are ``SITE`` and 8 scattered digits.
- An MPAN core is a distributor id (10-23, weighted by region), a unique 10-digit number and the
  standard check digit; an MPRN is a unique 10-digit number. Install dates are 2012-2018, most
  in the 2016-2018 peak of the SMETS1 roll-out, one date per site (one installation visit).
- 36 device model combinations (``DMC-<maker>-<model>-<firmware>``) of 13 products, with skewed
  popularity (the top one on about 11% of the meters); two firmware releases are newer than
  every installed meter. The EPCL leaves out three installed combinations (two popular-ish, one
  rare); the DMCT three others (one popular-ish, two rare) and the two new releases.
  Together that excludes about a tenth of the meters, a fifth with their site-mates.
- ``EXCLCODE`` holds the twelve codes of ``_CODES``; ``NONCOMM`` (3% of meters), ``MANEXCL``
  (0.5%) and ``STATUSCHG`` (1%) use only those; ``TODO`` (2%) has its own work codes. Each list
  picks its meters independently, so a meter or a site can have several causes.
- Dates around the creation day: non-comms detected in the 180 days before it, status changes
  effective from 120 days before to 30 days after, to-dos due in the 180 days after (a quarter
  without a due date), products tested in the 400 days before.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import TypeVar

import msgspec

from mmtlite.categories import ALL, STAMP_FORMAT, STAMP_PATTERN
from mmtlite.errors import BadArgument
from mmtlite.fileformat import file_name, write
from mmtlite.paths import Place
from mmtlite.writing import output_file

__all__ = [
    "MAX_METERS",
    "ORDER",
    "SHARES",
    "GeneratedFile",
    "generate",
    "names",
    "write_into_inbound",
    "write_set",
]

_T = TypeVar("_T")

ORDER = ("EXCLCODE", "DMCT", "EPCL", "MMT", "NONCOMM", "MANEXCL", "TODO", "STATUSCHG")
SHARES = {"NONCOMM": 0.03, "MANEXCL": 0.005, "TODO": 0.02, "STATUSCHG": 0.01}
MAX_METERS = 10**8  # the MSN serial range of one fuel: beyond it serials would repeat


class GeneratedFile(msgspec.Struct, frozen=True):
    """One generated inbound file: its category, name, bytes and number of detail rows."""

    category: str
    name: str
    content: bytes
    rows: int


class _Product(msgspec.Struct, frozen=True):
    manufacturer: str  # as the EPCL writes it
    maker: str  # its short form in dmc_ids
    model: str
    fuel: str
    serial_code: str  # the maker's part of an MSN: one letter (E) or three characters (G)
    share: float  # of the meters of its fuel, relative to the other products
    firmware: tuple[str, ...]  # installed releases, the most common first
    newer: tuple[str, ...] = ()  # released after the last installation: on no meter yet


class _Dmc(msgspec.Struct, frozen=True):
    dmc_id: str
    product: _Product
    firmware: str
    weight: float  # share of all meters; 0 for a release no meter runs yet


class _Code(msgspec.Struct, frozen=True):
    code: str
    description: str
    site_wide: bool
    category: str  # the list that uses it
    weight: float  # how often that list uses it
    comments: tuple[str, ...] = ()  # MANEXCL comments; "" is a blank comment


_PRODUCTS = (
    _Product(
        "Landis+Gyr",
        "LG",
        "E470",
        "E",
        "L",
        30,
        ("5.2.1", "5.3.0", "5.1.0", "5.4.2"),
        newer=("5.5.0",),
    ),
    _Product("Landis+Gyr", "LG", "E470PP", "E", "L", 6, ("5.3.0", "5.4.2")),
    _Product(
        "Secure",
        "SEC",
        "LIBERTY100",
        "E",
        "K",
        22,
        ("3.2.1", "3.1.0", "4.0.0", "2.9.8"),
        newer=("4.1.0",),
    ),
    _Product("Secure", "SEC", "LIBERTY110", "E", "K", 4, ("1.1.0", "1.0.3")),
    _Product("EDMI", "EDMI", "MK7A", "E", "D", 10, ("2.18", "2.20")),
    _Product("EDMI", "EDMI", "MK10A", "E", "D", 8, ("1.06", "1.04", "1.10")),
    _Product("Aclara", "ACL", "SGM1411", "E", "A", 5, ("4.5", "4.3")),
    _Product("Elster", "ELS", "AS300P", "E", "E", 4, ("1.8.0", "1.7.2")),
    _Product("Landis+Gyr", "LG", "G470", "G", "G4L", 25, ("5.2.1", "5.3.0", "5.4.2")),
    _Product("Secure", "SEC", "LIBERTYG4", "G", "G4S", 14, ("2.1.0", "2.0.1", "2.2.0")),
    _Product("Elster", "ELS", "BKG4E", "G", "E6S", 12, ("1.4", "1.3", "1.5")),
    _Product("Itron", "ITR", "GALLUS", "G", "G4I", 8, ("7.2", "7.1")),
    _Product("Flonidan", "FLD", "UGG4SRT", "G", "F6U", 5, ("3.1.0", "3.0.2")),
)

_CODES = (
    _Code("NC01", "Communications hub offline for 30 days or more", True, "NONCOMM", 40),
    _Code("NC02", "No WAN coverage at the premises", True, "NONCOMM", 15),
    _Code("NC03", "Meter not joined to the communications hub", False, "NONCOMM", 25),
    _Code("NC04", "No reads received for 30 days", False, "NONCOMM", 20),
    _Code(
        "MX01",
        "Vulnerable customer: contact before migration",
        True,
        "MANEXCL",
        30,
        ("Priority services register", "Customer asked to be called first", ""),
    ),
    _Code(
        "MX02",
        "Open customer complaint",
        True,
        "MANEXCL",
        25,
        ("Complaint open with the customer team", "Ombudsman case", ""),
    ),
    _Code(
        "MX03", "Prepayment meter: later tranche", False, "MANEXCL", 20, ("Prepayment wave 2", "")
    ),
    _Code(
        "MX04",
        "Safety or access issue reported by a field engineer",
        True,
        "MANEXCL",
        10,
        ("Dog on site", "No access to the meter cupboard", "Asbestos reported", ""),
    ),
    _Code(
        "MX05",
        "MPxN differs between CS and the MMT",
        False,
        "MANEXCL",
        15,
        ("Data team checking the MPxN", ""),
    ),
    _Code("SC01", "Change of supplier (churn)", True, "STATUSCHG", 60),
    _Code("SC02", "Meter exchanged: no longer SMETS1", False, "STATUSCHG", 30),
    _Code("SC03", "Meter removed", False, "STATUSCHG", 10),
)

# The to-do list has its own work codes (they are not exclusion codes): code, description, weight.
_TODOS = (
    ("FWUPG", "Upgrade the firmware to a listed release", 35),
    ("HUBMOVE", "Relocate the communications hub", 20),
    ("CFGCHK", "Check the tariff configuration", 25),
    ("MPXNFIX", "Correct the MPxN held in CS", 10),
    ("PPMCRED", "Check the prepayment credit balance", 10),
)

# The dates of a list's rows: first day (relative to the creation day) and number of days.
_WINDOWS = {"NONCOMM": (-180, 180), "TODO": (0, 180), "STATUSCHG": (-120, 150)}

# Per site, the meters' fuels (electricity first) and how common that layout is, in per cent.
_LAYOUTS = (
    ("E", 36.0),
    ("G", 4.0),
    ("EG", 50.0),
    ("EE", 5.0),
    ("EEG", 3.5),
    ("EGG", 0.5),
    ("EEGG", 0.7),
    ("EEEG", 0.3),
)

# GB distributor ids (the first two digits of an MPAN core), weighted by customers (millions).
_DISTRIBUTORS = (
    (10, 3.6),
    (11, 2.6),
    (12, 2.3),
    (13, 1.5),
    (14, 2.5),
    (15, 1.6),
    (16, 2.4),
    (17, 0.8),
    (18, 2.0),
    (19, 2.3),
    (20, 3.0),
    (21, 1.1),
    (22, 1.6),
    (23, 2.3),
)

_INSTALL_YEARS = {2012: 2, 2013: 5, 2014: 8, 2015: 15, 2016: 22, 2017: 28, 2018: 20}
_MPAN_WEIGHTS = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
_SERIALS = 10**8  # 8-digit MSN serials
_CORES = 10**10  # the unique part of an MPAN core
_MPRNS = 9 * 10**9  # 10-digit MPRNs (no leading zero)
_SITES = 10**8
_LOW = 1000  # _scatter splits off the last three digits
_CHUNK = 4096  # random draws taken at once: bulk choices are much faster than single ones
_STAMP = re.compile(STAMP_PATTERN)


def generate(
    meters: int, *, seed: int = 0, env: str = "build", created: str = "20240101090000"
) -> list[GeneratedFile]:
    """The inbound files of ``meters`` meters for ``env``, in load order (see the module)."""
    if isinstance(meters, bool) or not isinstance(meters, int) or not 0 <= meters <= MAX_METERS:
        raise BadArgument(
            f"meters must be a whole number from 0 to {MAX_METERS:,}, not {meters!r}", "--meters"
        )
    stamps = dict(zip(ORDER, _stamps(created, len(ORDER)), strict=True))
    day = date(int(created[:4]), int(created[4:6]), int(created[6:8]))
    rng = random.Random(seed)

    def made(category: str, rows: Iterable[Sequence[str]], count: int) -> GeneratedFile:
        stamp = stamps[category]
        content = write(category, env, 1, stamp, rows)
        return GeneratedFile(category, file_name(category, env, stamp), content, count)

    codes = [(code.code, code.description, "Y" if code.site_wide else "N", ALL) for code in _CODES]
    epcl, dmct = _product_lists(rng, day)
    picks = {
        name: rng.sample(range(meters), round(meters * share)) for name, share in SHARES.items()
    }
    # The lists name meters by MSN: the master rows note the MSN of every meter picked here.
    msns = dict.fromkeys((index for chosen in picks.values() for index in chosen), "")
    files = [
        made("EXCLCODE", codes, len(codes)),
        made("DMCT", dmct, len(dmct)),
        made("EPCL", epcl, len(epcl)),
        made("MMT", _master_rows(rng, meters, msns), meters),  # written as it is generated
    ]
    for category, chosen in picks.items():
        rows = _list_rows(rng, category, [msns[index] for index in chosen], day)
        files.append(made(category, rows, len(rows)))
    return files


def names(env: str, created: str) -> list[tuple[str, str]]:
    """The category and file name of each file ``generate`` makes, in its order."""
    return [
        (category, file_name(category, env, stamp))
        for category, stamp in zip(ORDER, _stamps(created, len(ORDER)), strict=True)
    ]


def write_set(files: Iterable[GeneratedFile], directory: Path) -> list[Path]:
    """Write ``files`` side by side into ``directory`` (created if missing); their paths."""
    return _write((directory, file) for file in files)


def write_into_inbound(files: Iterable[GeneratedFile], place: Place) -> list[Path]:
    """Write each file into its category's inbound folder of ``place``; their paths."""
    return _write((place.inbound(file.category), file) for file in files)


def _write(targets: Iterable[tuple[Path, GeneratedFile]]) -> list[Path]:
    """The set whole or not at all: every file is written under its hidden temporary name,
    and all are renamed only when all are complete; a failure or Ctrl-C on the way leaves no
    file and no temporary. A file that exists already is never replaced (``Exists``)."""
    paths = []
    with ExitStack() as renames:
        for folder, file in targets:
            path = folder / file.name
            renames.enter_context(output_file(path, exclusive=True)).write(file.content)
            paths.append(path)
    return paths


def _stamps(created: str, count: int) -> list[str]:
    """``count`` creation stamps one second apart from ``created``."""
    # Dates up to a year either side of the creation day are written, and a date must be in
    # 1900-2099 (categories.DATE).
    if not _STAMP.fullmatch(created) or not "1901" <= created[:4] <= "2098":
        raise BadArgument(
            f"created must be YYYYMMDDHHMMSS in 1901-2098, not {created}", "--created"
        )
    start = datetime.strptime(created, STAMP_FORMAT)
    return [f"{start + timedelta(seconds=second):%Y%m%d%H%M%S}" for second in range(count)]


def _days(first: date, count: int) -> list[str]:
    return [f"{first + timedelta(days=offset):%Y%m%d}" for offset in range(count)]


def _draws(rng: random.Random, population: Sequence[_T], weights: Sequence[float]) -> Iterator[_T]:
    """Endless weighted draws from ``population``, taken in bulk."""
    cumulative = list(accumulate(weights))
    while True:
        yield from rng.choices(population, cum_weights=cumulative, k=_CHUNK)


@cache
def _dmcs() -> tuple[_Dmc, ...]:
    # A product's share of all meters: its fuel's share of the meters, split among its products.
    meters = {fuel: sum(share * layout.count(fuel) for layout, share in _LAYOUTS) for fuel in "EG"}
    products = {fuel: sum(p.share for p in _PRODUCTS if p.fuel == fuel) for fuel in "EG"}
    dmcs = []
    for product in _PRODUCTS:
        fuel = product.fuel
        share = meters[fuel] / sum(meters.values()) * product.share / products[fuel]
        # Older releases stay on more meters: each release has about half the one before.
        releases = sum(0.5**rank for rank in range(len(product.firmware)))
        for rank, firmware in enumerate(product.firmware):
            weight = share * 0.5**rank / releases
            dmcs.append(_Dmc(_dmc_id(product, firmware), product, firmware, weight))
        dmcs.extend(
            _Dmc(_dmc_id(product, release), product, release, 0.0) for release in product.newer
        )
    return tuple(dmcs)


def _dmc_id(product: _Product, firmware: str) -> str:
    return f"DMC-{product.maker}-{product.model}-{firmware}"


def _product_lists(
    rng: random.Random, day: date
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The EPCL and DMCT rows: each leaves out a few installed combinations, not the same ones."""
    dmcs = _dmcs()
    installed = sorted((dmc for dmc in dmcs if dmc.weight), key=lambda dmc: -dmc.weight)
    # Popular-ish: 2-3% of the meters each; what is left out excludes about a tenth of them.
    popular, rare = installed[10:22], installed[22:]
    popular_out, rare_out = rng.sample(popular, 3), rng.sample(rare, 3)
    not_eligible = {dmc.dmc_id for dmc in (*popular_out[:2], rare_out[0])}
    untested = {dmc.dmc_id for dmc in (popular_out[2], *rare_out[1:])}
    untested.update(dmc.dmc_id for dmc in dmcs if not dmc.weight)  # too new to be tested
    epcl: list[tuple[str, ...]] = [
        (dmc.dmc_id, dmc.product.manufacturer, dmc.product.model, dmc.firmware, ALL)
        for dmc in dmcs
        if dmc.dmc_id not in not_eligible
    ]
    tested = [dmc for dmc in dmcs if dmc.dmc_id not in untested]
    dates = rng.choices(_days(day - timedelta(days=400), 400), k=len(tested))
    dmct: list[tuple[str, ...]] = [
        (
            dmc.dmc_id,
            f"{dmc.product.manufacturer} {dmc.product.model} firmware {dmc.firmware}",
            tested_on,
            ALL,
        )
        for dmc, tested_on in zip(tested, dates, strict=True)
    ]
    return epcl, dmct


@cache
def _install_days() -> tuple[list[str], list[float]]:
    days = []
    weights = []
    for year, weight in _INSTALL_YEARS.items():
        first = date(year, 1, 1)
        count = (date(year + 1, 1, 1) - first).days
        days += _days(first, count)
        weights += [weight / count] * count
    return days, weights


def _weighted_sums(weights: Sequence[int]) -> list[int]:
    """The weighted digit sum of every number of ``len(weights)`` digits, by the number."""
    sums = [0]
    for weight in weights:
        sums = [total + weight * digit for total in sums for digit in range(10)]
    return sums


def _scatter(rng: random.Random, modulus: int) -> Callable[[int], int]:
    """A repeatable shuffle of ``range(modulus)`` (a multiple of 1000): 0, 1, 2... to unique values.

    Two Feistel rounds over the number's last three digits and the rest: each round can be
    undone, so no two numbers meet, and neighbours land far apart (a stride would show).
    """
    highs = modulus // _LOW
    up = rng.choices(range(highs), k=_LOW)
    down = rng.choices(range(_LOW), k=_LOW)

    def at(number: int) -> int:
        high, low = divmod(number, _LOW)
        high = (high + up[low]) % highs
        return high * _LOW + (low + down[high % _LOW]) % _LOW

    return at


def _master_rows(
    rng: random.Random, meters: int, msns: dict[int, str]
) -> Iterator[tuple[str, ...]]:
    """The MMT rows of ``meters`` meters, site by site; sets ``msns[i]`` for every i in it."""
    if not meters:
        return
    # The hot loop runs once per meter: no random call beyond bulk draws, and the MPAN check
    # digit from three table look-ups (the 10 digits after the distributor as 3 + 3 + 4).
    high, middle, low = map(
        _weighted_sums, (_MPAN_WEIGHTS[2:5], _MPAN_WEIGHTS[5:8], _MPAN_WEIGHTS[8:])
    )
    distributor_sums = _weighted_sums(_MPAN_WEIGHTS[:2])
    areas = _draws(
        rng,
        [(str(number), distributor_sums[number]) for number, _ in _DISTRIBUTORS],
        [customers for _, customers in _DISTRIBUTORS],
    )
    layouts = _draws(rng, [layout for layout, _ in _LAYOUTS], [share for _, share in _LAYOUTS])
    days = _draws(rng, *_install_days())
    electricity, gas = (_kits(rng, fuel) for fuel in "EG")
    site_number, e_serial, g_serial, core, mprn = (
        _scatter(rng, modulus) for modulus in (_SITES, _SERIALS, _SERIALS, _CORES, _MPRNS)
    )
    index = e_count = g_count = 0
    # The draws are endless: the loop ends when ``meters`` rows are out.
    sites = enumerate(zip(layouts, days, areas, strict=False))
    for site_count, (layout, installed, (area, area_sum)) in sites:
        site = f"SITE{site_number(site_count):08d}"
        year = installed[2:4]
        for fuel in layout:
            if fuel == "E":
                dmc, code = next(electricity)
                msn = f"{year}{code}{e_serial(e_count):08d}"
                number = core(e_count)
                e_count += 1
                check = (
                    (
                        area_sum
                        + high[number // 10**7]
                        + middle[number // 10**4 % 1000]
                        + low[number % 10**4]
                    )
                    % 11
                    % 10
                )
                mpxn = f"{area}{number:010d}{check}"
            else:
                dmc, code = next(gas)
                msn = f"{code}{g_serial(g_count):08d}{year}"
                mpxn = str(10**9 + mprn(g_count))
                g_count += 1
            if index in msns:
                msns[index] = msn
            yield msn, site, mpxn, fuel, dmc, installed, ALL
            index += 1
            if index == meters:
                return


def _kits(rng: random.Random, fuel: str) -> Iterator[tuple[str, str]]:
    """Endless (dmc_id, MSN maker code) draws for meters of ``fuel``, by popularity."""
    used = [dmc for dmc in _dmcs() if dmc.product.fuel == fuel and dmc.weight]
    return _draws(
        rng, [(dmc.dmc_id, dmc.product.serial_code) for dmc in used], [dmc.weight for dmc in used]
    )


def _list_rows(
    rng: random.Random, category: str, msns: list[str], day: date
) -> list[tuple[str, ...]]:
    """The rows of one exclusion or to-do list for the meters ``msns``."""
    count = len(msns)
    if category == "TODO":
        todos = rng.choices(_TODOS, weights=[weight for *_, weight in _TODOS], k=count)
        # A quarter of the to-dos have no due date, one in six no description.
        due = _window(category, day)
        due = rng.choices(due + [""] * (len(due) // 3), k=count)
        described = rng.choices((True, True, True, True, True, False), k=count)
        return [
            (msn, code, text if keep else "", when, ALL)
            for msn, (code, text, _), when, keep in zip(msns, todos, due, described, strict=True)
        ]
    codes = [code for code in _CODES if code.category == category]
    chosen = rng.choices(codes, weights=[code.weight for code in codes], k=count)
    if category == "MANEXCL":
        return [
            (msn, code.code, _comment(rng, code), ALL)
            for msn, code in zip(msns, chosen, strict=True)
        ]
    dates = rng.choices(_window(category, day), k=count)
    return [
        (msn, code.code, when, ALL) for msn, code, when in zip(msns, chosen, dates, strict=True)
    ]


def _window(category: str, day: date) -> list[str]:
    start, length = _WINDOWS[category]
    return _days(day + timedelta(days=start), length)


def _comment(rng: random.Random, code: _Code) -> str:
    comment = rng.choice(code.comments)
    # Some comments point at the ticket that asked for the exclusion.
    return (
        f"{comment} (INC{rng.randrange(10**7):07d})" if comment and rng.random() < 0.3 else comment
    )
