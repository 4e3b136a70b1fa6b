"""Three real client libraries from the package index, certified in every built-in profile.
Their findings (README, "Certify a client library") are pinned here: a library release that
fixes one, or a suite change that stops seeing one, must update the README with this test."""

from __future__ import annotations

import pytest

from clientcert.bench import PROFILE_NAMES
from clientcert.certify import certify
from harness import Verdict
from tests.clientcert.real import lytics_adapter, optsmm_adapter, pyliphemus_adapter

# library -> the MUST clauses it fails (every other MUST clause: not FAIL), and its verdict on
# CLIENT-014 (JSON labelled text/html, SmartPanel): optsmm's ContentTypeError is judged there,
# not under the clauses whose scenarios it never got through in that dialect.
FINDINGS = {
    "optsmm": (optsmm_adapter.make,
               {"CLIENT-003", "CLIENT-004", "CLIENT-008", "CLIENT-011", "CLIENT-012"}),
    "pyliphemus": (pyliphemus_adapter.make,
                   {"CLIENT-001", "CLIENT-004", "CLIENT-011", "CLIENT-012"}),
    "lytics-smm-demo": (lytics_adapter.make, {"CLIENT-004", "CLIENT-011"}),
}
LABEL_VERDICTS = {
    "optsmm": Verdict.NON_STRICT,
    "pyliphemus": Verdict.PASS,
    "lytics-smm-demo": Verdict.NA,  # its JSON bodies are refused by SmartPanel: not judged
}


@pytest.mark.parametrize("library", sorted(FINDINGS))
def test_real_library_verdicts(library: str) -> None:
    make, expected = FINDINGS[library]
    book = certify(make, PROFILE_NAMES)  # type: ignore[arg-type]
    failed = {o.id for o in book.outcomes() if o.verdict is Verdict.FAIL}
    table = "\n".join(o.line(200) for o in book.outcomes())
    assert failed == expected, f"{library}:\n{table}"
    labels = next(o for o in book.outcomes() if o.id == "CLIENT-014")
    assert labels.verdict is LABEL_VERDICTS[library], f"{library}:\n{table}"
