"""The transcriptions in ``seed_NNN.yaml`` still say what the seed pages say.

The pages are read from ``../shared/seeds`` when the checkout has it, else from the
repository's own copies in ``schemas/sources`` (which ``tests/contract/test_clauses.py`` keeps
byte-equal to ``../shared/seeds`` wherever both exist), so the check runs in a bare CI clone
too. A transcription that no longer matches its page, or a page example left untranscribed,
fails here rather than letting the replay test compare against something the page never said.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest

from harness.contract.resources import schemas_dir
from tests.mockpanel.seeds.transcripts import (
    Example,
    Quote,
    Transcript,
    answer_json,
    curl_fields,
    load_all,
)

SHARED_SEEDS = Path(__file__).resolve().parents[3].parent / "shared" / "seeds"
TRANSCRIPTS = load_all()


def _seeds_dir() -> Traversable:
    for folder in (SHARED_SEEDS, schemas_dir() / "sources"):
        if folder.is_dir():
            return folder
    pytest.skip("no seed pages: neither ../shared/seeds nor schemas/sources")


def _page(transcript: Transcript) -> list[str]:
    return (_seeds_dir() / transcript.seed).read_text(encoding="utf-8").splitlines()


def _quoted(page: list[str], quote: Quote) -> list[str]:
    assert quote.last <= len(page), f"lines {quote.first}-{quote.last} beyond the page"
    return [line.strip() for line in page[quote.first - 1 : quote.last]]


def _lists_parameter(text: str, name: str) -> bool:
    """Whether a parameter table lists ``name``: a row (or cell) begins with it, followed by
    its description, a space or "required"/"optional" -- but not by more of a longer name
    ("orders" does not list "order", "keywords" does not list "key")."""
    for line in text.splitlines():
        cell = line.strip().lstrip("|").strip()
        if not cell.startswith(name):
            continue
        rest = cell[len(name) :]
        if not rest or rest.startswith(("required", "optional")):
            return True
        if not (rest[0].islower() or rest[0] == "_"):
            return True
    return False


def _request_problems(example: Example, page: list[str]) -> list[str]:
    if example.request is None:
        return [] if example.note or example.webhook else ["no request lines and no note"]
    text = "\n".join(_quoted(page, example.request))
    if "curl " in text:
        fields = curl_fields(text)
        if len({name for name, _ in fields}) != len(fields):
            return [f"the curl command repeats a field: {fields}"]
        if dict(fields) != dict(example.form):
            return [f"form {dict(example.form)} is not the curl command's {dict(fields)}"]
        return []
    problems = [f"the table lists no {name!r}" for name in example.form
                if name != "action" and not _lists_parameter(text, name)]
    action = example.form.get("action", "")
    if not any(line.lstrip("| ").startswith("action") and action in line
               for line in text.splitlines()):
        problems.append(f"the table's action row does not name {action!r}")
    return problems


def _example_problems(example: Example, page: list[str]) -> list[str]:
    problems = _request_problems(example, page)
    for quote in (example.answer, example.error):
        if quote is not None and _quoted(page, quote) != [
            line.strip() for line in quote.text.splitlines()
        ]:
            problems.append(f"lines {quote.first}-{quote.last} now read differently")
    if example.answer is not None:
        answer_json(example.answer.text)  # parses
    if example.error is not None:
        wording = example.spelled or example.message
        if wording is not None and wording not in example.error.text:
            problems.append(f"{wording!r} is not in the error's text")
        if example.spelled is not None and example.message is None:
            problems.append("spelled without a message")
    if example.http_status is not None:
        if example.http_line is None:
            problems.append("an HTTP status without the line stating it")
        elif str(example.http_status) not in page[example.http_line - 1]:
            problems.append(f"line {example.http_line} does not state {example.http_status}")
    if example.replace:
        if example.replace_line is None:
            problems.append("replaced values without the line naming them")
        else:
            line = page[example.replace_line - 1]
            problems += [f"line {example.replace_line} does not name {value!r}"
                         for value in example.replace.values() if value not in line]
    if example.webhook is not None:
        text = "\n".join(_quoted(page, example.webhook))
        if example.content_type is None or example.content_type not in text:
            problems.append(f"the webhook lines do not give {example.content_type!r}")
    return problems


def test_the_transcriptions_match_the_seed_pages() -> None:
    problems = []
    for transcript in TRANSCRIPTS:
        page = _page(transcript)
        for example in transcript.examples:
            problems += [f"{example.id}: {p}" for p in _example_problems(example, page)]
    assert problems == []


def _opens_an_answer(line: str) -> bool:
    text = line.strip()
    return text.startswith(("{", "[", "# →"))


def _untranscribed(transcript: Transcript, page: list[str]) -> list[str]:
    """The page's lines that open an example answer outside every transcribed quote."""
    covered = {
        number
        for example in transcript.examples
        for quote in (example.answer, example.error)
        if quote is not None
        for number in range(quote.first, quote.last + 1)
    }
    return [f"{transcript.seed}:{number}: {line.strip()}"
            for number, line in enumerate(page, start=1)
            if _opens_an_answer(line) and number not in covered]


def test_every_example_answer_on_the_pages_is_transcribed() -> None:
    missing = []
    for transcript in TRANSCRIPTS:
        missing += _untranscribed(transcript, _page(transcript))
    assert missing == []


# The checker itself: it must catch a transcription that no longer matches its page, and
# accept one that does though it is written differently (indentation, field order).


def _example(seed: str, name: str) -> tuple[Example, list[str]]:
    transcript = next(t for t in TRANSCRIPTS if t.seed.startswith(seed))
    example = next(e for e in transcript.examples if e.name == name)
    return example, _page(transcript)


def test_the_check_catches_a_changed_answer_a_changed_form_and_a_wrong_line() -> None:
    example, page = _example("000", "status")
    assert example.answer is not None
    changed = replace(example.answer, text=example.answer.text.replace("6.00", "6.000"))
    assert _example_problems(replace(example, answer=changed), page) != []
    moved = replace(example.answer, first=example.answer.first + 1)
    assert _example_problems(replace(example, answer=moved), page) != []
    form = {**example.form, "order": "K7M2Y0"}
    assert _example_problems(replace(example, form=form), page) != []
    assert _example_problems(replace(example, http_status=201, http_line=60), page) != []


def test_the_check_catches_a_parameter_the_table_lacks_and_a_wrong_message() -> None:
    example, page = _example("004", "add-poll")
    form = {**example.form, "answer": "2"}  # the table's parameter is answer_number
    assert _example_problems(replace(example, form=form), page) != []
    form = {**example.form, "action": "multiStatus"}
    assert _example_problems(replace(example, form=form), page) != []
    error, page = _example("002", "error-invalid-key")
    assert _example_problems(replace(error, message="Invalid key"), page) != []


def test_the_check_accepts_other_indentation_and_field_order() -> None:
    example, page = _example("003", "status")
    assert example.answer is not None
    indented = "\n".join("    " + line for line in example.answer.text.splitlines())
    reordered = dict(reversed(list(example.form.items())))
    kept = replace(example, answer=replace(example.answer, text=indented), form=reordered)
    assert _example_problems(kept, page) == []


def test_a_table_lists_a_name_only_as_a_whole_name() -> None:
    assert _lists_parameter("keyYour API key\nactionbalance", "key")
    assert _lists_parameter("| keyrequired | Your unique API key. |", "key")
    assert _lists_parameter("posts optionalTotal posts", "posts")
    assert not _lists_parameter("ordersComma-separated order IDs", "order")
    assert not _lists_parameter("keywordsComma-separated keywords", "key")


def test_an_example_left_out_is_noticed() -> None:
    transcript = next(t for t in TRANSCRIPTS if t.seed.startswith("002"))
    kept = tuple(e for e in transcript.examples if e.name != "refill-multi")
    missing = _untranscribed(replace(transcript, examples=kept), _page(transcript))
    assert [entry.split(":")[1] for entry in missing] == ["329", "330", "331", "332"]
