"""The round trip of issue 18: a panel recorded by the harness (``--panel-record``), a profile
inferred from the recording, the inferred profile served, and the two compared.

Used by the certification runs of every built-in profile (``test_profiles_certify.py``, which
already runs the whole harness against each one, now recording it) and by the runs of panels
written apart from mockpanel (``test_round_trip_legit.py``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from harness.base.redaction import Secret
from harness.contract.dialects import load_dialects
from harness.panel.fingerprint import DialectGuess, fingerprint
from harness.wire.client import HttpTransport, PanelClient
from mockpanel.config import MockConfig
from mockpanel.emulate.infer import infer, inference_yaml
from mockpanel.emulate.shapes import diff_profiles, render
from mockpanel.profiles import Profile, load_profile_text
from mockpanel.server import run_panel

__all__ = ["detected_dialect", "inferred_profile"]

_KEY = "round-trip-key-9Dq2Lx0w"
_OPENING = Decimal("10.00")


def inferred_profile(recording: Path, name: str, keep: Path | None = None) -> Profile:
    """The profile ``mockpanel profiles infer`` would write for ``recording``, loaded back
    from its text as ``serve --profile-file`` would (kept in ``keep`` when given, so a failing
    test leaves it to read)."""
    har = json.loads(recording.read_text(encoding="utf-8"))
    text = inference_yaml(infer(har, name=name), source_label=recording.name)
    if keep is not None:
        keep.write_text(text, encoding="utf-8")
    return load_profile_text(text, f"{name}.yaml (inferred)")


def detected_dialect(profile: Profile) -> DialectGuess:
    """The harness's dialect detection (spending nothing) of ``profile`` served in process."""
    with run_panel(MockConfig(profile=profile, keys=((_KEY, _OPENING),),
                              rate_limit="off")) as panel:
        client = PanelClient(panel.url, transport=HttpTransport())
        guess = fingerprint(client, Secret(_KEY, "main key"), data=load_dialects(), seed=11)
        assert panel.failures == ()
    return guess


# A catalogue that does not say which services refill leaves the harness no service to refill
# without spending on a guess, so its recording holds no refused refill either: which of the
# original's services refuse is unknowable, and the inference presumes that all refill
# (``not_observed`` says so). The script's refill of a service that does not is that guess.
_REFILL_GUESS = "refill (service without refill)"


def shape_differences(original: Profile, inferred: Profile) -> str:
    """The shape diff of the two over the steps a harness run takes too (``mockpanel profiles
    diff --harness-steps``), as the CLI prints it ("" when there is none)."""
    differences = [
        d for d in diff_profiles(original, inferred, harness_steps=True)
        if not (d.step == _REFILL_GUESS and "refill" not in original.services.fields)
    ]
    return render(differences, original.name, inferred.name) if differences else ""
