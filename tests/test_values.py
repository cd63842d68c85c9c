"""Values are exact: the decimal in the file and the number in the model are the same decimal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from nem2cdr.values import decode_fields, decode_one, decode_segment

# The spec's IntervalValue is NUM(15,5); we accept any decimal with at most 15 significant digits.
spec_decimals = st.decimals(
    min_value=0, max_value=Decimal("9999999999.99999"), places=5, allow_nan=False
)


def text_of(value: Decimal, trailing_zeros: int) -> str:
    return f"{value:f}" + ("0" * trailing_zeros if "." in f"{value:f}" else "")


@given(st.lists(spec_decimals, min_size=1, max_size=300), st.integers(0, 3))
def test_fast_and_slow_paths_give_the_file_decimals(values: list[Decimal], zeros: int) -> None:
    texts = [text_of(value, zeros) for value in values]
    segment = ",".join(texts).encode()
    slow = decode_fields(segment.split(b","))
    assert slow.problems == []
    assert slow.values is not None
    fast = decode_segment(segment)
    for got in (fast, slow.values):
        if got is None:  # the fast path may decline (long tokens); the slow path never does
            continue
        assert [Decimal(repr(v)) for v in got] == [Decimal(t) for t in texts]


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.text(alphabet="0123456789", min_size=1, max_size=14),
)
def test_a_value_is_accepted_exactly_when_a_float_carries_it(whole: str, fraction: str) -> None:
    text = f"{whole}.{fraction}"
    value, problem = decode_one(text.encode())
    if Decimal(repr(float(text))) == Decimal(text):
        assert problem is None and value == float(text)
    else:
        assert value is None
        assert problem is not None and problem.code == "NEM12-E014"


def test_long_but_exact_values_are_accepted() -> None:
    value, problem = decode_one(b"0.50000000000000000000")
    assert (value, problem) == (0.5, None)


@given(st.text(alphabet="0123456789.,-+eE nai\t", max_size=40))
def test_any_text_is_either_exact_or_refused(text: str) -> None:
    decoded = decode_fields(text.encode().split(b","))
    fast = decode_segment(text.encode())
    if decoded.values is not None:
        parts = text.split(",")
        assert [Decimal(repr(v)) for v in decoded.values] == [Decimal(p) for p in parts]
    if fast is not None:
        assert decoded.values == fast
