"""The harness options: CLI flags, ini twins and environment variables, resolved once into a
frozen :class:`PanelConfig`.

Precedence is CLI > environment > ini > default, decided in one place for every plugin of the
project (:func:`harness.run.options.pick_values`), and every validation message names where the
bad value came from. Secret values (keys, the control token) are never repeated in a message.

What can be checked without the panel is checked here, so that a mistake stops the run before
its first request: a key or token too short to redact safely, a ``--panel-profile`` that names
no dialect of ``schemas/dialects.yaml``, a ``--panel-clause`` pattern that matches no clause of
``schemas/clauses.yaml``. What needs the panel (is it there, does it take the key) is
``harness.run.preflight``'s job.
"""

from __future__ import annotations

import difflib
import fnmatch
import ipaddress
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import pytest

from harness import contract
from harness.base.redaction import MIN_SECRET_LENGTH, Secret, display_url
from harness.contract.dialects import load_dialects
from harness.run.options import OptionSpec, Raw, pick_values, read_options, register_options

__all__ = [
    "OPTIONS",
    "FailOn",
    "Mode",
    "OptionSpec",
    "PanelConfig",
    "add_options",
    "default_examples",
    "default_request_rate",
    "known_profiles",
    "resolve",
    "resolve_values",
]

_T = TypeVar("_T")

DEFAULT_ORDER_TIMEOUT = 120.0
DEFAULT_REQUEST_RATE = 5.0
DEFAULT_EXAMPLES = 20
# A live panel (not on this machine, or without a control API) pays for every example in
# requests against its rate limit and real money: its properties get a smaller budget.
LIVE_EXAMPLES = 3
# The longest a throttled request waits (Retry-After) before its test stops: a few minutes,
# longer than the per-minute windows panels publish (the smmhub mock asks for up to 60 s).
DEFAULT_MAX_RETRY_AFTER = 300.0
# A panel on this machine (a mock, a local staging copy) is not someone's production server:
# politeness would only slow the run down, so its default limit is effectively none.
LOOPBACK_REQUEST_RATE = 1000.0
_CLAUSE_PATTERN = re.compile(r"[A-Z*?\[][A-Z0-9*?\[\]!-]*")


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("panel_url", "--panel-url", "PANEL_URL",
               "API endpoint of the panel to certify, e.g. https://panel.example/api/v2. "
               "Without it the harness plugin is inert."),
    OptionSpec("panel_key", "--panel-key", "PANEL_KEY", "API key of the account under test."),
    OptionSpec("panel_second_key", "--panel-second-key", "PANEL_SECOND_KEY",
               "a second account's API key (isolation and low-balance tests)."),
    OptionSpec("panel_max_spend", "--panel-max-spend", "PANEL_MAX_SPEND",
               "most money the run may spend on the given keys (decimal, default 0: nothing "
               "that can cost money is sent)."),
    OptionSpec("panel_profile", "--panel-profile", "PANEL_PROFILE",
               "expected dialect name, or 'auto' (default) to report what is detected."),
    OptionSpec("panel_control_url", "--panel-control-url", "PANEL_CONTROL_URL",
               "control API root (the mock serves it at <base>/_mock). Without it the run is "
               "black-box."),
    OptionSpec("panel_control_token", "--panel-control-token", "PANEL_CONTROL_TOKEN",
               "Bearer token of the control API."),
    OptionSpec("panel_rate_limit", "--panel-rate-limit", "PANEL_RATE_LIMIT",
               "the panel's advertised rate limit in requests per minute (enables the "
               "rate-limit tests)."),
    OptionSpec("panel_order_timeout", "--panel-order-timeout", "PANEL_ORDER_TIMEOUT",
               f"seconds to wait for an order to finish in black-box mode "
               f"(default {DEFAULT_ORDER_TIMEOUT:g})."),
    OptionSpec("panel_request_rate", "--panel-request-rate", "PANEL_REQUEST_RATE",
               f"the harness's own politeness limit in requests per second "
               f"(default {DEFAULT_REQUEST_RATE:g}; {LOOPBACK_REQUEST_RATE:g} for a panel on "
               f"a loopback address)."),
    OptionSpec("panel_max_retry_after", "--panel-max-retry-after", "PANEL_MAX_RETRY_AFTER",
               f"the longest, in seconds, the harness waits in all for one throttled request "
               f"(HTTP 429 and its Retry-After) before the test stops with an error "
               f"(default {DEFAULT_MAX_RETRY_AFTER:g})."),
    OptionSpec("panel_clauses", "--panel-clause", "PANEL_CLAUSES",
               "run only tests citing these clauses: an id or a glob like 'ADD-*'; repeatable "
               "(comma-separated in the environment and ini).", multiple=True),
    OptionSpec("panel_report", "--panel-report", "PANEL_REPORT",
               "directory for the publishable certificate: report.json, report.md and a "
               "standalone report.html (created if absent)."),
    OptionSpec("panel_record", "--panel-record", "PANEL_RECORD",
               "write every exchange of the run to this file as HAR 1.2 (the format of "
               "browsers' developer tools), keys and the control token redacted, with each "
               "request's timing; written once, at the end of the run."),
    OptionSpec("panel_waivers", "--panel-waivers", "PANEL_WAIVERS",
               "YAML file of expected failures (clause, reason, expires; schema "
               "schemas/waivers.schema.json): a waived FAIL is reported WAIVED and does not "
               "fail the run."),
    OptionSpec("panel_sign_key", "--panel-sign-key", "PANEL_SIGN_KEY",
               "Ed25519 private key (PEM, from 'smm-conformance keygen') with which "
               "--panel-report signs report.json as it writes it (report.json.sig beside it; "
               "check it with 'smm-conformance verify')."),
    OptionSpec("panel_baseline", "--panel-baseline", "PANEL_BASELINE",
               "a previous run's report.json (or its --panel-report directory): the summary "
               "and the reports list what changed since (regressions, fixes, moved verdicts, "
               "contract changes)."),
    OptionSpec("panel_fail_on", "--panel-fail-on", "PANEL_FAIL_ON",
               "what fails the run: 'must' (default: any MUST clause that fails) or "
               "'regressions' (with --panel-baseline: only a MUST clause that fails now and "
               "did not in the baseline; the certificate still says NOT CERTIFIED)."),
    OptionSpec("panel_seed", "--panel-seed", "PANEL_SEED",
               "seed for the run's random choices (printed in the header to reproduce a run)."),
    OptionSpec("panel_examples", "--panel-examples", "PANEL_EXAMPLES",
               f"examples per property-based test (default {DEFAULT_EXAMPLES} against a mock: "
               f"a loopback panel with a control API; {LIVE_EXAMPLES} against a live panel)."),
)


class FailOn(Enum):
    """What sets a failing exit status (``--panel-fail-on``). Either way the certificate tells
    the truth: a run with a MUST FAIL is NOT CERTIFIED whatever its exit status."""

    MUST = "must"
    # A vendor's CI that knows its panel fails some clauses today, and wants to stop only on
    # what gets worse: fail on a MUST clause that fails now and did not in the baseline.
    REGRESSIONS = "regressions"


class Mode(Enum):
    """How outcomes are driven: by polling (black-box) or through the control API."""

    BLACK_BOX = "black-box"
    CONTROLLED = "controlled"


@dataclass(frozen=True, slots=True)
class PanelConfig:
    """Everything a run is allowed to do, resolved once at configure time."""

    url: str
    key: Secret | None
    second_key: Secret | None = None
    max_spend: Decimal = Decimal(0)
    profile: str = "auto"
    control_url: str | None = None
    control_token: Secret | None = None
    rate_limit: int | None = None
    order_timeout: float = DEFAULT_ORDER_TIMEOUT
    request_rate: float = DEFAULT_REQUEST_RATE
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    clauses: tuple[str, ...] = ()
    seed: int = field(default=0)
    examples: int = DEFAULT_EXAMPLES
    report_dir: Path | None = None
    waivers: Path | None = None  # the waiver file, read and checked by harness.run.waivers
    sign_key: Path | None = None  # read at configure time by harness.reporting.certificate
    baseline: Path | None = None  # read at configure time by harness.reporting.baseline
    fail_on: FailOn = FailOn.MUST
    record: Path | None = None  # the HAR file of --panel-record (harness.reporting.har)

    @property
    def mode(self) -> Mode:
        return Mode.CONTROLLED if self.control_url is not None else Mode.BLACK_BOX

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    def selects(self, clause_id: str) -> bool:
        """Whether ``--panel-clause`` selects ``clause_id`` (everything when none was given)."""
        return not self.clauses or any(fnmatch.fnmatchcase(clause_id, p) for p in self.clauses)

    def secrets(self) -> tuple[Secret, ...]:
        return tuple(s for s in (self.key, self.second_key, self.control_token) if s is not None)


# ---------------------------------------------------------------------------------------------
# The harness options' raw values, by the project's one precedence rule (harness.run.options).


def resolve_values(
    cli: Mapping[str, str | list[str] | None],
    env: Mapping[str, str],
    ini: Mapping[str, str | list[str] | None],
) -> dict[str, Raw]:
    """The harness options' raw values by precedence CLI > environment > ini (absent ones left
    out; an empty string counts as absent, so ``PANEL_KEY=`` unsets a key)."""
    return pick_values(OPTIONS, cli, env, ini)


def _fail(raw: Raw, message: str, *, secret: bool = False) -> pytest.UsageError:
    shown = "" if secret else f" (got {raw.value!r})"
    return pytest.UsageError(f"{raw.origin}: {message}{shown}")


def _text(raw: Raw) -> str:
    return raw.value if isinstance(raw.value, str) else ",".join(raw.value)


def default_examples(url: str, *, controlled: bool) -> int:
    """Generated examples per property when none is given: :data:`DEFAULT_EXAMPLES` against a
    mock (a loopback panel whose control API makes requests and money free), else
    :data:`LIVE_EXAMPLES` (each example costs a live panel requests, and spending ones money)."""
    return DEFAULT_EXAMPLES if controlled and _loopback(url) else LIVE_EXAMPLES


def default_request_rate(url: str) -> float:
    """The politeness limit when none is given: none to speak of for a loopback panel."""
    return LOOPBACK_REQUEST_RATE if _loopback(url) else DEFAULT_REQUEST_RATE


def _loopback(url: str) -> bool:
    """Whether the panel runs on this machine (a mock, a local staging copy)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(raw: Raw) -> str:
    text = _text(raw).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(Raw(display_url(text), raw.origin), "expected an http(s) URL with a host")
    return text


def _secret(raw: Raw, label: str) -> Secret:
    text = _text(raw)
    if text != text.strip() or not text.isprintable():
        raise _fail(raw, "must be printable with no surrounding whitespace", secret=True)
    if len(text) < MIN_SECRET_LENGTH:
        # Redaction replaces the secret wherever it stands as a whole word: a short one can be
        # an ordinary word of the panel's answers ("Invalid API key"), hidden everywhere then.
        raise _fail(raw, f"is too short to keep out of the output safely: at least "
                         f"{MIN_SECRET_LENGTH} characters are needed (a shorter value can be an "
                         f"ordinary word of the panel's answers, which redaction would hide "
                         f"wherever it appears); give the real {label}", secret=True)
    return Secret(text, label)


def known_profiles() -> tuple[str, ...]:
    """``auto`` and every dialect name of ``schemas/dialects.yaml``, in file order."""
    return ("auto", *(dialect.name for dialect in load_dialects().dialects))


def _profile(raw: Raw) -> str:
    """A dialect name of ``schemas/dialects.yaml`` (any case) or ``auto``: a typo would
    otherwise run, certify, and only flag a MISMATCH in the header."""
    name = _text(raw).strip()
    known = known_profiles()
    match = next((k for k in known if k.lower() == name.lower()), None)
    if match is None:
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise _fail(raw, f"unknown dialect{hint}; known: {', '.join(known)} "
                         "(the names of schemas/dialects.yaml, or auto)")
    return match


def _number(raw: Raw, parse: Callable[[str], _T], what: str) -> _T:
    try:
        return parse(_text(raw).strip())
    except (ValueError, InvalidOperation):
        raise _fail(raw, f"expected {what}") from None


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(text)
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _clauses(raw: Raw) -> tuple[str, ...]:
    items = raw.value if isinstance(raw.value, list) else [raw.value]
    patterns = [p.strip().upper() for item in items for p in re.split(r"[,\s]+", item)]
    patterns = [p for p in patterns if p]
    for pattern in patterns:
        if not _CLAUSE_PATTERN.fullmatch(pattern):
            raise _fail(raw, f"{pattern!r} is not a clause id or glob like ADD-003 or ADD-*")
    ids = tuple(contract.clauses())
    for pattern in patterns:
        # A pattern selecting nothing would run no test and end "exit status 5": say so now.
        if not any(fnmatch.fnmatchcase(cid, pattern) for cid in ids):
            areas = ", ".join(dict.fromkeys(cid.rsplit("-", 1)[0] for cid in ids))
            close = difflib.get_close_matches(pattern, ids, n=3)
            hint = f"; close ids: {', '.join(close)}" if close else ""
            raise _fail(raw, f"{pattern!r} matches no clause of schemas/clauses.yaml{hint} "
                             f"(ids look like ADD-001; areas: {areas})")
    return tuple(dict.fromkeys(patterns))


def _path(raw: Raw, what: str = "a directory path") -> Path:
    text = _text(raw).strip()
    if not text or "\0" in text:
        raise _fail(raw, f"expected {what}")
    return Path(text).expanduser()


def build(picked: Mapping[str, Raw], *, default_seed: int) -> PanelConfig | None:
    """Validate the picked raw values into a config; ``None`` when no panel URL was given."""
    if "panel_url" not in picked:
        return None
    url = _url(picked["panel_url"])
    key = _secret(picked["panel_key"], "main key") if "panel_key" in picked else None
    second = (
        _secret(picked["panel_second_key"], "second key")
        if "panel_second_key" in picked
        else None
    )
    if key is not None and second is not None and key.matches(second.reveal()):
        raise _fail(picked["panel_second_key"], "must differ from the main key", secret=True)

    max_spend = Decimal(0)
    if "panel_max_spend" in picked:
        raw = picked["panel_max_spend"]
        max_spend = _number(raw, _decimal, "a decimal amount such as 2.50")
        if max_spend < 0:
            raise _fail(raw, "must be 0 or more")

    profile = "auto"
    if "panel_profile" in picked:
        profile = _text(picked["panel_profile"]).strip()
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", profile):
            raise _fail(picked["panel_profile"], "expected a dialect name such as 'perfectpanel'")
        profile = _profile(picked["panel_profile"])

    control_url = _url(picked["panel_control_url"]) if "panel_control_url" in picked else None
    token = (
        _secret(picked["panel_control_token"], "control token")
        if "panel_control_token" in picked
        else None
    )
    if (control_url is None) != (token is None):
        given = picked.get("panel_control_url") or picked["panel_control_token"]
        raise pytest.UsageError(
            f"{given.origin}: --panel-control-url and --panel-control-token go together"
        )
    if key is None and control_url is None:
        raise pytest.UsageError(
            f"{picked['panel_url'].origin}: a panel URL needs --panel-key (or PANEL_KEY, or ini "
            "panel_key), unless a control API is given to mint keys"
        )

    rate_limit = None
    if "panel_rate_limit" in picked:
        raw = picked["panel_rate_limit"]
        rate_limit = _number(raw, int, "a whole number of requests per minute")
        if rate_limit < 1:
            raise _fail(raw, "must be at least 1 request per minute")

    order_timeout = DEFAULT_ORDER_TIMEOUT
    if "panel_order_timeout" in picked:
        raw = picked["panel_order_timeout"]
        order_timeout = _number(raw, _finite_float, "a number of seconds")
        if order_timeout <= 0:
            raise _fail(raw, "must be more than 0 seconds")

    request_rate = default_request_rate(url)
    if "panel_request_rate" in picked:
        raw = picked["panel_request_rate"]
        request_rate = _number(raw, _finite_float, "a number of requests per second")
        if request_rate <= 0:
            raise _fail(raw, "must be more than 0 requests per second")

    max_retry_after = DEFAULT_MAX_RETRY_AFTER
    if "panel_max_retry_after" in picked:
        raw = picked["panel_max_retry_after"]
        max_retry_after = _number(raw, _finite_float, "a number of seconds")
        if max_retry_after < 0:
            raise _fail(raw, "must be 0 seconds or more")

    clauses = _clauses(picked["panel_clauses"]) if "panel_clauses" in picked else ()

    seed = default_seed
    if "panel_seed" in picked:
        seed = _number(picked["panel_seed"], int, "an integer")

    examples = default_examples(url, controlled=control_url is not None)
    if "panel_examples" in picked:
        raw = picked["panel_examples"]
        examples = _number(raw, int, "a whole number of examples")
        if examples < 1:
            raise _fail(raw, "must be at least 1 example")

    report_dir = _path(picked["panel_report"]) if "panel_report" in picked else None
    waivers = (_path(picked["panel_waivers"], "a waiver file path")
               if "panel_waivers" in picked else None)
    sign_key = (_path(picked["panel_sign_key"], "a private key file path")
                if "panel_sign_key" in picked else None)
    if sign_key is not None and report_dir is None:
        raise pytest.UsageError(f"{picked['panel_sign_key'].origin}: signs the certificate "
                                "--panel-report writes: give --panel-report DIR too")
    record = (_record_path(picked["panel_record"]) if "panel_record" in picked else None)
    baseline = (_path(picked["panel_baseline"], "a report.json path")
                if "panel_baseline" in picked else None)
    fail_on = _fail_on(picked["panel_fail_on"]) if "panel_fail_on" in picked else FailOn.MUST
    if fail_on is FailOn.REGRESSIONS and baseline is None:
        raise pytest.UsageError(f"{picked['panel_fail_on'].origin}: 'regressions' are counted "
                                "against a baseline: give --panel-baseline REPORT too")

    return PanelConfig(
        url=url,
        key=key,
        second_key=second,
        max_spend=max_spend,
        profile=profile,
        control_url=control_url,
        control_token=token,
        rate_limit=rate_limit,
        order_timeout=order_timeout,
        request_rate=request_rate,
        max_retry_after=max_retry_after,
        clauses=clauses,
        seed=seed,
        examples=examples,
        report_dir=report_dir,
        waivers=waivers,
        sign_key=sign_key,
        baseline=baseline,
        fail_on=fail_on,
        record=record,
    )


def _record_path(raw: Raw) -> Path:
    """The HAR file to write: a file path (its folder is made at the end if missing)."""
    path = _path(raw, "a file path for the HAR recording, such as run.har").absolute()
    if path.is_dir():
        raise _fail(raw, "is a directory; expected a file path for the HAR recording, "
                         "such as run.har")
    return path


def _fail_on(raw: Raw) -> FailOn:
    text = _text(raw).strip().lower()
    for choice in FailOn:
        if choice.value == text:
            return choice
    raise _fail(raw, f"expected one of {', '.join(repr(c.value) for c in FailOn)}")


# ---------------------------------------------------------------------------------------------
# pytest glue


def add_options(parser: pytest.Parser) -> None:
    """Register every option as a CLI flag and an ini twin (``None`` default = not given)."""
    register_options(parser, OPTIONS, "smm-harness", "SMM panel API v2 conformance harness")


def resolve(config: pytest.Config, environ: Mapping[str, str] | None = None) -> PanelConfig | None:
    """Read the three sources from pytest and the environment, then :func:`build`."""
    # A fresh seed per run unless one is given; printed in the header so the run can be replayed.
    return build(read_options(config, OPTIONS, environ), default_seed=random.randrange(1, 2**31))
