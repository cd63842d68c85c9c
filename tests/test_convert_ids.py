"""``servicePointId`` per data recipient: a keyed hash of the NMI (``--id-secret``)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import uuid

import pytest
from click.testing import CliRunner

import nem2cdr
from nem2cdr import ConvertOptions
from nem2cdr.usage import OptionsError
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import nem12, row_300

NMI = "6102000001"
DATA = nem12(f"200,{NMI},E1,1,E1,N1,METER1,kWh,30,", row_300("20240101"))
ALICE, BOB = b"recipient-alice-0123456789", b"recipient-bob-9876543210"


def ids(options: ConvertOptions) -> set[str]:
    out = io.BytesIO()
    assert nem2cdr.convert(io.BytesIO(DATA), out, options).ok
    assert nem2cdr.check(out.getvalue()) == []
    return {read["servicePointId"] for read in json.loads(out.getvalue())["data"]["reads"]}


def test_the_id_is_hmac_sha256_of_the_nmi_as_a_version_8_uuid() -> None:
    [found] = ids(ConvertOptions(id_secret=ALICE))
    digest = hmac.new(ALICE, NMI.encode(), hashlib.sha256).digest()
    as_uuid = uuid.UUID(found)
    assert (as_uuid.version, as_uuid.variant) == (8, uuid.RFC_4122)
    # Every bit but the six of version and variant comes from the hash.
    mask = bytes([0xFF] * 6 + [0x0F, 0xFF, 0x3F] + [0xFF] * 7)
    assert bytes(a & m for a, m in zip(as_uuid.bytes, mask, strict=True)) == bytes(
        a & m for a, m in zip(digest[:16], mask, strict=True)
    )


def test_two_recipients_get_ids_that_do_not_link() -> None:
    alice, bob = ids(ConvertOptions(id_secret=ALICE)), ids(ConvertOptions(id_secret=BOB))
    default = ids(ConvertOptions())
    assert alice != bob and alice != default and bob != default
    assert ids(ConvertOptions(id_secret=ALICE)) == alice  # the same recipient: the same id
    assert not any(NMI in found for found in alice | bob)


@pytest.mark.parametrize(
    "options",
    [
        {"id_secret": b"short"},
        {"id_secret": ALICE, "service_point_id": "nmi"},
        {"id_secret": ALICE, "namespace": uuid.uuid4()},
    ],
    ids=["short-secret", "with-nmi", "with-namespace"],
)
def test_a_secret_that_cannot_work_is_an_options_error(options: dict[str, object]) -> None:
    with pytest.raises(OptionsError):
        ConvertOptions(**options)  # type: ignore[arg-type]


def test_the_cli_takes_the_secret_from_the_option_or_the_environment() -> None:
    runner = CliRunner()
    by_option = runner.invoke(
        cli, ["convert", "-q", "-", "--id-secret", ALICE.decode()], input=DATA
    )
    by_env = runner.invoke(
        cli, ["convert", "-q", "-"], input=DATA, env={"NEM2CDR_ID_SECRET": ALICE.decode()}
    )
    assert by_option.exit_code == by_env.exit_code == 0
    assert by_option.stdout == by_env.stdout
    assert json.loads(by_option.stdout)["data"]["reads"][0]["servicePointId"] == next(
        iter(ids(ConvertOptions(id_secret=ALICE)))
    )


def test_the_cli_refuses_a_short_secret_or_one_with_the_nmi() -> None:
    runner = CliRunner()
    short = runner.invoke(cli, ["convert", "-q", "-", "--id-secret", "abc"], input=DATA)
    assert short.exit_code == 2 and "at least 16 bytes" in short.stderr
    nmi = ["convert", "-q", "-", "--id-secret", ALICE.decode(), "--service-point-id", "nmi"]
    assert runner.invoke(cli, nmi, input=DATA).exit_code == 2
