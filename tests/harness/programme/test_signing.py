"""Signed certificates: ``keygen``, ``sign`` and ``verify`` (and :mod:`harness.reporting.signing`
under them).

Every part of a signed report is tampered with, one at a time, and ``verify`` must refuse it
with the exact reason (the verdict from what to what, which field of which clause, the
contract hash, the signature, the key, the expiry); a report only re-formatted (whitespace,
key order) must still verify, because what is signed is the value, not the bytes.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.programme.cli import main
from harness.reporting.signing import (
    ProblemKind,
    canonical,
    fingerprint,
    generate_key,
    load_private_key,
    render_signature,
    sign_report,
    verify_report,
)
from tests.harness.programme.reports import FAIL, PASS, record

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
VERDICTS = {"GEN-001": PASS, "GEN-002": PASS, "ADD-003": FAIL, "ERR-001": PASS}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return record(VERDICTS, exchanges=["#1 POST add -> HTTP 200 {}"])


@pytest.fixture
def signed(tmp_path: Path, report: dict[str, Any], capsys: pytest.CaptureFixture[str]
           ) -> tuple[Path, Path, Path]:
    """A key pair made by ``keygen`` and a report signed by ``sign``: (report, key, public)."""
    key = tmp_path / "keys" / "signing.key"
    assert main(["keygen", str(key)]) == 0
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    assert main(["sign", str(path), "--key", str(key)]) == 0
    capsys.readouterr()
    return path, key, key.with_name("signing.key.pub")


def verify(capsys: pytest.CaptureFixture[str], path: Path, *trust: Path,
           sig: Path | None = None) -> tuple[int, str, str]:
    argv = ["verify", str(path), "--trust", *map(str, trust)]
    if sig is not None:
        argv += ["--sig", str(sig)]
    status = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def clause(data: dict[str, Any], cid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in data["clauses"] if c["id"] == cid)
    return found


# ---------------------------------------------------------------------------------------------
# keygen


def test_keygen_writes_a_0600_private_key_and_prints_its_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k" / "ci.key"
    assert main(["keygen", str(key)]) == 0
    out = capsys.readouterr().out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = key.with_name("ci.key.pub")
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    private = load_private_key(key.read_bytes(), "k")
    assert f"fingerprint: {fingerprint(private.public_key())}" in out
    assert "BEGIN PRIVATE KEY" not in out  # the secret is written to its file, never printed


def test_keygen_never_replaces_a_key_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "ci.key"
    assert main(["keygen", str(key)]) == 0
    before = key.read_bytes()
    assert main(["keygen", str(key)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert key.read_bytes() == before
    # Only the public one exists: neither is written (a pair or nothing).
    other = tmp_path / "other.key"
    other.with_name("other.key.pub").write_text("taken")
    assert main(["keygen", str(other)]) == 2
    assert not other.exists()
    assert main(["keygen", str(key), "--force"]) == 0
    assert key.read_bytes() != before
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


# ---------------------------------------------------------------------------------------------
# the canonical form


def test_the_canonical_form_ignores_layout_and_key_order_but_not_values() -> None:
    a = {"b": [1, 2.5, "é"], "a": {"y": None, "x": True}}
    b = json.loads('{ "a" : {"x":true, "y":null},\n "b":[1, 2.50, "\\u00e9"] }')
    assert canonical(a) == canonical(b) == '{"a":{"x":true,"y":null},"b":[1,2.5,"é"]}'.encode()
    assert canonical({"n": 1}) != canonical({"n": 1.0})  # another type is another value
    assert canonical({"l": [1, 2]}) != canonical({"l": [2, 1]})  # list order is meaning


# ---------------------------------------------------------------------------------------------
# verify, through the command line


def test_a_signed_report_verifies(signed: tuple[Path, Path, Path],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path, key, public = signed
    status, out, err = verify(capsys, path, public)
    assert (status, err) == (0, "")
    fp = fingerprint(load_private_key(key.read_bytes(), "k").public_key())
    assert out.startswith(f"VERIFIED: {path} signed by {fp} at ")
    assert "no expiry" in out
    document = json.loads(path.with_name("report.json.sig").read_text())
    signed_part = document["signed"]
    assert signed_part["contract_hash"] == json.loads(path.read_text())["contract"]["hash"]
    assert signed_part["signer"]["fingerprint"] == fp
    assert signed_part["harness_version"]
    assert document["algorithm"] == "ed25519"


@pytest.mark.parametrize("layout", ["compact", "sorted", "reindented", "crlf"])
def test_reformatting_the_report_does_not_matter(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str], layout: str
) -> None:
    path, _, public = signed
    data = json.loads(path.read_text(encoding="utf-8"))
    text = {
        "compact": json.dumps(data, separators=(",", ":")),
        "sorted": json.dumps(data, sort_keys=True, indent=7),
        "reindented": json.dumps(dict(reversed(list(data.items()))), indent="\t",
                                 ensure_ascii=True),
        "crlf": json.dumps(data, indent=2).replace("\n", "\r\n"),
    }[layout]
    path.write_text(text, encoding="utf-8", newline="")
    status, out, _ = verify(capsys, path, public)
    assert status == 0
    assert out.startswith("VERIFIED:")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: clause(d, "ADD-003").update(verdict="PASS"),
         "clause ADD-003: verdict changed: signed FAIL, now PASS"),
        (lambda d: clause(d, "GEN-001").update(verdict="NON-STRICT"),
         "clause GEN-001: verdict changed: signed PASS, now NON-STRICT"),
        (lambda d: d["contract"].update(hash="0" * 64),
         "contract hash changed: signed "),
        (lambda d: clause(d, "GEN-002").update(text="Anything goes."),
         "clause GEN-002: text changed"),
        (lambda d: clause(d, "ADD-003")["evidence"][0]["exchanges"].__setitem__(
            0, "#1 POST add -> HTTP 200 {\"order\": 1}"),
         "clause ADD-003: evidence changed"),
        (lambda d: clause(d, "ADD-003").update(reason="", tests=["t.py::test_other"]),
         "clause ADD-003: reason, tests changed"),
        (lambda d: d.update(certified=True),
         "field 'certified' changed: signed false, now true"),
        (lambda d: d.update(verdict="CERTIFIED: no MUST clause failed"),
         "field 'verdict' changed: signed \"NOT CERTIFIED: 1 MUST clause(s) failed\", now "
         "\"CERTIFIED: no MUST clause failed\""),
        (lambda d: d["spend"].update(cap="1000.00"), "field 'spend' changed"),
        (lambda d: d.update(extra="added later"), "field 'extra' added"),
        (lambda d: d.pop("notes"), "field 'notes' removed"),
        (lambda d: d["clauses"].pop(0), "clause GEN-001 removed"),
        (lambda d: d["clauses"].reverse(), "clauses reordered"),
    ],
    ids=["verdict-fail-to-pass", "verdict-pass-to-nonstrict", "contract-hash", "clause-text",
         "evidence-string", "clause-fields", "certified", "verdict-line", "spend", "added",
         "removed", "clause-removed", "reordered"],
)
def test_every_change_to_the_report_is_refused_with_what_changed(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None], reason: str,
) -> None:
    path, _, public = signed
    edit(path, change)
    status, out, err = verify(capsys, path, public)
    assert status == 1
    assert out == ""
    assert err.startswith(f"smm-conformance verify: REFUSED: {path}: ")
    assert reason in err
    assert err.count("\n") == 1  # one line


def test_a_changed_verdict_names_only_the_verdict_and_a_changed_hash_only_the_hash(
    report: dict[str, Any]
) -> None:
    key = generate_key()
    document = sign_report(report, key, now=NOW, harness_version="9")
    flipped = json.loads(json.dumps(report))
    clause(flipped, "GEN-001")["verdict"] = "FAIL"
    outcome = verify_report(flipped, document, [key.public_key()], now=NOW)
    assert outcome.kinds == {ProblemKind.VERDICT_CHANGED}
    assert outcome.reason() == "clause GEN-001: verdict changed: signed PASS, now FAIL"
    rehashed = json.loads(json.dumps(report))
    rehashed["contract"]["hash"] = "f" * 64
    outcome = verify_report(rehashed, document, [key.public_key()], now=NOW)
    assert outcome.kinds == {ProblemKind.CONTRACT_CHANGED}
    assert outcome.reason() == (f"contract hash changed: signed {report['contract']['hash']}, "
                                f"the report says {'f' * 64}")


def sig_of(path: Path) -> Path:
    return path.with_name(path.name + ".sig")


def test_changed_signature_bytes_are_refused(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, public = signed
    sig = sig_of(path)
    document = json.loads(sig.read_text())
    raw = bytearray(base64.b64decode(document["signature"]))
    raw[10] ^= 0x01
    document["signature"] = base64.b64encode(bytes(raw)).decode()
    sig.write_text(json.dumps(document))
    status, _, err = verify(capsys, path, public)
    assert status == 1
    assert "the signature does not match the signed data" in err


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(expires_at="2999-01-01T00:00:00Z"),   # an expiry pushed back
        lambda s: s.update(signed_at="2020-01-01T00:00:00Z"),
        lambda s: s.update(harness_version="99.0"),
        lambda s: s.update(contract_hash="0" * 64),
        lambda s: s.update(certified=True),
        lambda s: s["clauses"]["ADD-003"].update(verdict="PASS"),
        lambda s: s.update(report_sha256="0" * 64),
    ],
    ids=["expiry", "signed-at", "harness-version", "contract-hash", "certified",
         "clause-verdict", "report-digest"],
)
def test_every_signed_field_of_the_signature_file_is_covered(
    report: dict[str, Any], change: Callable[[dict[str, Any]], None]
) -> None:
    key = generate_key()
    document = sign_report(report, key, now=NOW, harness_version="1", valid_days=30)
    change(document["signed"])
    outcome = verify_report(report, document, [key.public_key()], now=NOW)
    assert outcome.kinds == {ProblemKind.BAD_SIGNATURE}


def test_an_unknown_key_is_refused_and_named(
    signed: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, key, _ = signed
    stranger = tmp_path / "stranger.key"
    assert main(["keygen", str(stranger)]) == 0
    capsys.readouterr()
    status, _, err = verify(capsys, path, stranger.with_name("stranger.key.pub"))
    assert status == 1
    fp = fingerprint(load_private_key(key.read_bytes(), "k").public_key())
    assert f"signed by an unknown key {fp} (trusted: sha256:" in err
    # Trusting both keys: the right one is found among them.
    status, out, _ = verify(capsys, path, stranger.with_name("stranger.key.pub"),
                            key.with_name("signing.key.pub"))
    assert status == 0
    assert out.startswith("VERIFIED:")


def test_a_report_re_signed_by_another_key_under_the_trusted_name_is_refused(
    report: dict[str, Any]
) -> None:
    trusted, forger = generate_key(), generate_key()
    forged = json.loads(json.dumps(report))
    forged["certified"] = True
    document = sign_report(forged, forger, now=NOW, harness_version="1")
    # The forger names the trusted key and fingerprint, keeping its own signature.
    raw = trusted.public_key().public_bytes_raw()
    document["signed"]["signer"] = {"fingerprint": fingerprint(trusted.public_key()),
                                    "public_key": base64.b64encode(raw).decode()}
    outcome = verify_report(forged, document, [trusted.public_key()], now=NOW)
    assert outcome.kinds == {ProblemKind.BAD_SIGNATURE}
    # Naming the trusted fingerprint beside its own key is caught before any key is tried.
    document["signed"]["signer"]["public_key"] = base64.b64encode(
        forger.public_key().public_bytes_raw()).decode()
    outcome = verify_report(forged, document, [trusted.public_key()], now=NOW)
    assert outcome.kinds == {ProblemKind.MALFORMED}
    assert "does not have the fingerprint it states" in outcome.reason()


def test_an_expired_certificate_is_refused_and_one_in_date_accepted(
    tmp_path: Path, report: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k.key"
    assert main(["keygen", str(key)]) == 0
    private = load_private_key(key.read_bytes(), "k")
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    long_ago = datetime.now(UTC) - timedelta(days=40)
    sig_of(path).write_text(render_signature(
        sign_report(report, private, now=long_ago, harness_version="1", valid_days=30)))
    capsys.readouterr()
    status, _, err = verify(capsys, path, tmp_path / "k.key.pub")
    assert status == 1
    expired = (long_ago + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"the certificate expired on {expired}" in err
    assert main(["sign", str(path), "--key", str(key), "--valid-days", "30"]) == 0
    status, out, _ = verify(capsys, path, tmp_path / "k.key.pub")
    assert status == 0
    assert ", valid until " in out


def test_expiry_and_future_dates_are_judged_at_now(report: dict[str, Any]) -> None:
    key = generate_key()
    document = sign_report(report, key, now=NOW, harness_version="1", valid_days=1)
    trusted = [key.public_key()]
    assert verify_report(report, document, trusted, now=NOW + timedelta(hours=23)).valid
    late = verify_report(report, document, trusted, now=NOW + timedelta(days=1))
    assert late.kinds == {ProblemKind.EXPIRED}
    early = verify_report(report, document, trusted, now=NOW - timedelta(hours=1))
    assert early.kinds == {ProblemKind.NOT_YET_VALID}
    # Both a change and the expiry: every reason is given.
    changed = {**report, "notes": ["edited"]}
    both = verify_report(changed, document, trusted, now=NOW + timedelta(days=2))
    assert both.kinds == {ProblemKind.CONTENT_CHANGED, ProblemKind.EXPIRED}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "not a JSON object"),
        ({"format": "smm-conformance-signature/9"}, "format 'smm-conformance-signature/9'"),
        ({}, 'no "format"'),
        ("ALGORITHM", "algorithm 'rsa'"),
        ("SIGNATURE", '"signature" is not 64 bytes in base64'),
        ("PUBLIC", "the signer's public key is not 32 bytes in base64"),
        ("NO-SIGNED-AT", "signed.signed_at is missing or of the wrong type"),
        ("BAD-DATE", "signed.expires_at is not a UTC date-time"),
    ],
)
def test_a_malformed_signature_file_is_refused_as_such(
    report: dict[str, Any], document: object, reason: str
) -> None:
    key = generate_key()
    good = sign_report(report, key, now=NOW, harness_version="1")
    if document == "ALGORITHM":
        document = {**good, "algorithm": "rsa"}
    elif document == "SIGNATURE":
        document = {**good, "signature": "not base64!"}
    elif document == "PUBLIC":
        document = {**good, "signed": {**good["signed"], "signer": {
            "fingerprint": "sha256:00", "public_key": "AAAA"}}}
    elif document == "NO-SIGNED-AT":
        document = {**good, "signed": {k: v for k, v in good["signed"].items()
                                       if k != "signed_at"}}
    elif document == "BAD-DATE":
        document = {**good, "signed": {**good["signed"], "expires_at": "next tuesday"}}
    outcome = verify_report(report, document, [key.public_key()], now=NOW)
    assert outcome.kinds == {ProblemKind.MALFORMED}
    assert outcome.reason().startswith("malformed signature file: ")
    assert reason in outcome.reason()


def test_a_signature_file_that_is_not_json_or_missing_is_bad_input(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, public = signed
    status, _, err = verify(capsys, path, public, sig=path.with_name("absent.sig"))
    assert status == 2
    assert err == f"smm-conformance verify: {path.with_name('absent.sig')}: no such signature " \
                  "file\n"
    sig_of(path).write_text("{truncated")
    status, _, err = verify(capsys, path, public)
    assert status == 2
    assert f"{sig_of(path)}: not JSON: " in err
    sig_of(path).write_text(json.dumps({"format": "smm-conformance-signature/1"}))
    status, _, err = verify(capsys, path, public)
    assert status == 1
    assert "REFUSED" in err
    assert "malformed signature file: algorithm None" in err


def test_a_report_of_another_format_version_is_bad_input(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, key, public = signed
    edit(path, lambda d: d.update(format="smm-conformance-report/1"))
    status, _, err = verify(capsys, path, public)
    assert status == 2
    assert "a report of format 'smm-conformance-report/1'; this harness reads " \
           "smm-conformance-report/2" in err
    assert main(["sign", str(path), "--key", str(key)]) == 2
    assert "smm-conformance-report/1" in capsys.readouterr().err


def test_a_duplicated_key_in_the_report_is_refused_not_guessed(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, public = signed
    text = path.read_text(encoding="utf-8")
    # A reader of the file sees the first "certified", a JSON parser keeps the last.
    path.write_text(text.replace('"certified": false', '"certified": true, "certified": false',
                                 1), encoding="utf-8")
    status, _, err = verify(capsys, path, public)
    assert status == 2
    assert "the key 'certified' appears twice in one object" in err


def test_wrong_key_files_are_bad_input(
    signed: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, key, public = signed
    status, _, err = verify(capsys, path, key)  # the private key given to trust
    assert status == 2
    assert err == f"smm-conformance verify: {key}: not a PEM public key (this is a private " \
                  "key: trust its .pub)\n"
    status, _, err = verify(capsys, path, tmp_path / "none.pub")
    assert (status, err) == (2, f"smm-conformance verify: {tmp_path / 'none.pub'}: no such "
                                "public key file\n")
    assert main(["sign", str(path), "--key", str(public)]) == 2
    assert f"{public}: not a PEM private key" in capsys.readouterr().err
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"\x00\x01 not a key")
    assert main(["sign", str(path), "--key", str(garbage)]) == 2
    assert "not a PEM private key" in capsys.readouterr().err


def test_sign_refuses_an_invalid_report_and_writes_nothing(
    tmp_path: Path, report: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k.key"
    assert main(["keygen", str(key)]) == 0
    path = tmp_path / "report.json"
    broken = json.loads(json.dumps(report))
    clause(broken, "GEN-001")["verdict"] = "MAYBE"
    path.write_text(json.dumps(broken))
    capsys.readouterr()
    assert main(["sign", str(path), "--key", str(key)]) == 2
    err = capsys.readouterr().err
    assert "not a valid smm-conformance-report/2 report: at clauses/0/verdict" in err
    assert not sig_of(path).exists()
    assert main(["sign", str(path), "--key", str(key), "--valid-days", "0"]) == 2
    assert "expected 1 to 3660 days" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# signing as the certificate is written (--panel-sign-key)


def test_the_writer_signs_the_json_as_written_and_removes_a_stale_signature(
    tmp_path: Path, report: dict[str, Any]
) -> None:
    from harness.reporting.writers import write_reports

    key = generate_key()

    def sign(written: dict[str, Any]) -> str:
        return render_signature(sign_report(written, key, now=NOW, harness_version="1"))

    # The last scrub rewrites the text after rendering: the signature must follow the file.
    def scrub(text: str) -> str:
        return text.replace("expected a success answer", "expected <scrubbed>")

    written = write_reports(report, tmp_path, scrub=scrub, sign=sign)
    assert [p.name for p in written] == ["report.json", "report.json.sig", "report.md",
                                         "report.html"]
    on_disk = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert on_disk != report  # the scrub did change it
    document = json.loads((tmp_path / "report.json.sig").read_text(encoding="utf-8"))
    assert verify_report(on_disk, document, [key.public_key()], now=NOW).valid
    assert not verify_report(report, document, [key.public_key()], now=NOW).valid

    # A later unsigned run in the same directory leaves no signature of another report.
    written = write_reports(report, tmp_path, scrub=scrub)
    assert [p.name for p in written] == ["report.json", "report.md", "report.html"]
    assert not (tmp_path / "report.json.sig").exists()
