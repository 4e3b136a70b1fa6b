"""Ids: unique, deterministic per seed, never reused; alphanumeric ones look like K7M2X9."""

from __future__ import annotations

import re

import pytest

from mockpanel.state.ids import ALPHABET, IdSequence, IdStyle


@pytest.mark.parametrize("style", ["numeric", "alphanumeric"])
def test_ids_are_unique_and_deterministic(style: str) -> None:
    first = IdSequence(style, 7, "order")  # type: ignore[arg-type]
    again = IdSequence(style, 7, "order")  # type: ignore[arg-type]
    ids = [first.next() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == [again.next() for _ in range(20_000)]


def test_seed_changes_the_ids() -> None:
    a = IdSequence("alphanumeric", 1, "order")
    b = IdSequence("alphanumeric", 2, "order")
    assert [a.next() for _ in range(5)] != [b.next() for _ in range(5)]


def test_alphanumeric_ids_use_the_unambiguous_alphabet() -> None:
    sequence = IdSequence("alphanumeric", 0, "refill", prefix="R", width=5)
    pattern = re.compile(rf"R[{ALPHABET}]{{5}}")
    assert all(pattern.fullmatch(sequence.next()) for _ in range(1000))


def test_numeric_ids_count_up() -> None:
    sequence = IdSequence("numeric", 3, "order")
    ids = [int(sequence.next()) for _ in range(5)]
    assert ids == list(range(ids[0], ids[0] + 5))


def test_peek_does_not_use_the_id_up() -> None:
    sequence = IdSequence("alphanumeric", 0, "order")
    peeked = sequence.peek()
    assert sequence.peek() == peeked
    assert sequence.next() == peeked
    assert sequence.next() != peeked
    assert sequence.issued == 2


@pytest.mark.parametrize("style", ["numeric", "alphanumeric"])
def test_use_up_takes_the_peeked_id_as_next_would(style: IdStyle) -> None:
    used, reference = IdSequence(style, 7, "order"), IdSequence(style, 7, "order")
    peeked = used.peek()
    used.use_up()
    assert (peeked, used.peek(), used.issued) == (reference.next(), reference.next(), 1)


def test_use_up_refuses_past_a_full_id_space_as_next_does() -> None:
    sequence = IdSequence("alphanumeric", 0, "tiny", width=3)
    for _ in range(len(ALPHABET) ** 3):
        sequence.use_up()
    with pytest.raises(OverflowError):
        sequence.use_up()
    assert sequence.issued == len(ALPHABET) ** 3


def test_a_full_id_space_raises_instead_of_repeating() -> None:
    sequence = IdSequence("alphanumeric", 0, "tiny", width=3)
    ids = {sequence.next() for _ in range(len(ALPHABET) ** 3)}
    assert len(ids) == len(ALPHABET) ** 3
    with pytest.raises(OverflowError):
        sequence.next()
