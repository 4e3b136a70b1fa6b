"""Keys never reach any output: exchanges, evidence, the terminal, JUnit XML."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from harness.base.exchange import KEY_SLOT
from harness.base.redaction import REDACTED, Secret, SecretBook, scrub
from harness.run.config import OPTIONS
from harness.wire.client import PanelClient
from tests.fixtures.fakepanel import KEY, SECOND_KEY, Defects, FakePanel, serve
from tests.fixtures.transports import RecordingTransport, json_answer, scripted


def test_a_secret_prints_as_its_label_only() -> None:
    secret = Secret("p@ss word/1", "main key")
    assert "p@ss" not in repr(secret)
    assert "p@ss" not in str(secret)
    assert "p@ss" not in f"{secret}"
    assert "p@ss" not in repr([secret])
    assert secret.reveal() == "p@ss word/1"
    assert secret.matches("p@ss word/1")
    assert not secret.matches("p@ss word/2")
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(ValueError, match="empty"):
        Secret("", "main key")


def test_scrub_removes_raw_and_url_encoded_spellings() -> None:
    secret = Secret("p@ss word/1", "main key")
    text = "got p@ss word/1, p%40ss+word%2F1 and p%40ss%20word/1"
    cleaned = scrub(text, [secret])
    assert "p@ss" not in cleaned
    assert "p%40ss" not in cleaned
    assert cleaned.count(REDACTED) == 3


def test_an_exchange_never_holds_the_key_even_when_the_panel_echoes_it() -> None:
    key = Secret("s3cr3t-Key-99", "main key")
    echo = json_answer({"error": "Invalid API key s3cr3t-Key-99"}, 200,
                       ("X-Debug", "key=s3cr3t-Key-99"))
    transport = RecordingTransport(scripted(echo))
    client = PanelClient("http://127.0.0.1:9/api/v2", transport=transport,
                         secrets=SecretBook([key]))
    exchanges = [
        client.call({"action": "balance"}, key=key),
        client.send_raw(b"key=" + KEY_SLOT + b"&action=balance", content_type="text/plain",
                        key=key),
    ]
    assert all(b"s3cr3t-Key-99" in sent.body for sent in transport.requests if sent.body)
    for exchange in exchanges:
        assert "s3cr3t" not in repr(exchange)
        assert "s3cr3t" not in exchange.evidence()
        assert "s3cr3t" not in json.dumps(exchange.json)
        assert exchange.error_message == f"Invalid API key {REDACTED}"


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)


def test_no_output_of_a_whole_run_contains_a_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A panel that echoes keys, failing runs, verbose output, JUnit XML: still no key."""
    _clean_env(monkeypatch)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    panel = FakePanel(defects=Defects(echo_key=True, unknown_action_html=True))
    junit = tmp_path / "junit.xml"
    with serve(panel) as url:
        result = pytester.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", f"--panel-second-key={SECOND_KEY}",
            "--panel-request-rate=1000", "--panel-max-spend=0.50", "-rA", "-vv",
            "--showlocals", f"--junitxml={junit}",
        )
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the HTML answer breaks a MUST clause
    output = "\n".join(result.outlines + result.errlines)
    assert "SMM panel API v2 conformance" in output
    assert REDACTED in output  # evidence was printed, redacted
    for secret in (KEY, SECOND_KEY):
        assert secret not in output
        assert secret not in junit.read_text()
    assert any(KEY.encode() in body for body in panel.bodies)  # it was really sent


# ---------------------------------------------------------------------------------------------
# whole tokens only


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        # The review's traps: a short key inside words, a key that is a word of the answers.
        ("k", "Checking your browser", "Checking your browser"),
        ("Invalid", "Invalidated keys", "Invalidated keys"),
        # A key standing alone, or bounded by punctuation, is always caught.
        ("k3y-Value-99", "key=k3y-Value-99&action=balance",
         f"key={REDACTED}&action=balance"),
        ("k3y-Value-99", '{"error":"bad key k3y-Value-99."}', f'{{"error":"bad key {REDACTED}."}}'),
        ("k3y-Value-99", "key_k3y-Value-99_end", f"key_{REDACTED}_end"),
        ("k3y-Value-99", "k3y-Value-99k3y-Value-99", "k3y-Value-99k3y-Value-99"),  # one token
        # A key that starts or ends with punctuation delimits itself on that side.
        ("-k3y.Value-", "x-k3y.Value-y", f"x{REDACTED}y"),
    ],
)
def test_only_whole_tokens_are_redacted(key: str, text: str, expected: str) -> None:
    assert scrub(text, [Secret(key, "main key")]) == expected


def test_url_encoded_spellings_stay_redacted_as_tokens() -> None:
    secret = Secret("p@ss+word/12", "main key")
    text = "raw p@ss+word/12, plus p%40ss%2Bword%2F12, quote p%40ss%2Bword/12; Xp%40ss%2Bword%2F12"
    assert scrub(text, [secret]) == (f"raw {REDACTED}, plus {REDACTED}, quote {REDACTED}; "
                                     "Xp%40ss%2Bword%2F12")


def test_scrubbing_twice_changes_nothing_more() -> None:
    """Text is scrubbed by the client, then by the certificate: even a key spelled like the
    placeholder's word leaves one placeholder."""
    secret = Secret("redacted", "main key")
    once = scrub("key redacted here", [secret])
    assert once == f"key {REDACTED} here"
    assert scrub(once, [secret]) == once
