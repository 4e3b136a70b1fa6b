"""pytest fixtures that hand each test a live mock panel and a fresh tenant on it.

Registered through the ``pytest11`` entry point ``mockpanel``. Nothing starts until a test asks
for a fixture, so sessions that never use them pay only for this module's import.

* ``mock_panel_server`` (session): a :class:`MockPanelServers` pool that starts one real
  server per profile on first use, each in its own thread on a free loopback port, with a
  random control token and a **manual clock** (orders only progress when a test calls
  :meth:`MockPanelHandle.advance`, so tests are deterministic). The clock is shared by every
  test of the session on that server; that is harmless because order lifecycles are timed from
  each order's own creation and every test has its own tenant. Per-key rate limits apply as
  the profile publishes them; per-address ones are off (see :func:`fixture_rate_limit`).
* ``mock_panel`` (function): a :class:`MockPanelHandle` for a tenant minted for this test
  alone. It is synchronous (stdlib ``urllib``), so plain ``def test_...`` functions use it.

The profile comes from, in order: indirect parametrization
(``@pytest.mark.parametrize("mock_panel", ["smmhub"], indirect=True)``), the marker
``@pytest.mark.mock_profile("smmhub", balance="5.00")``, ``--mock-profile``, the ini option
``mock_profile``, and finally ``reference``. A profile file (your own provider's, from
``mockpanel profiles infer`` or ``show``) is served the same way:
``@pytest.mark.mock_profile(file="my-provider.yaml")`` (relative to the test file),
``--mock-profile-file FILE`` (relative to the current directory) or the ini option
``mock_profile_file`` (relative to the ini file); a file given so wins over a profile name given
at the same level.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from mockpanel.profiles import Profile
    from mockpanel.server import RunningPanel

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_PROFILE",
    "MockPanelError",
    "MockPanelHandle",
    "MockPanelServers",
]

DEFAULT_PROFILE = "reference"
DEFAULT_BALANCE = "100.00"
MARKER = "mock_profile"
_INI = "mock_profile"
_INI_FILE = "mock_profile_file"
_TIMEOUT_SECONDS = 10.0  # a loopback mock answers at once; this only bounds a wedged server


class MockPanelError(Exception):
    """The mock answered something a helper cannot use (a control call refused, not JSON)."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(f"{message} (HTTP {status}): {body[:300]}")
        self.status = status
        self.body = body


def _exchange(request: urllib.request.Request) -> tuple[int, str]:
    """Send ``request``; an HTTP error status is an answer here, not an exception."""
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), error.read().decode("utf-8", "replace")


def _decode(status: int, text: str, what: str) -> Any:
    """Parse JSON with decimals as :class:`~decimal.Decimal`: money never passes through float."""
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        raise MockPanelError(f"{what} did not answer JSON", status, text) from None


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


class MockPanelHandle:
    """One tenant on a running mock panel: its API key plus helpers over the control API.

    ``call`` speaks the public API exactly as a client would; the other helpers use the
    control API (``/_mock``, Bearer token), which a real panel does not have.
    """

    def __init__(
        self, *, base_url: str, control_token: str, profile: str, key: str, tenant: str
    ) -> None:
        self.base_url = base_url
        self.profile = profile
        self.key = key
        self.tenant = tenant
        self._control_token = control_token

    @classmethod
    def mint(
        cls,
        panel: RunningPanel,
        balance: str | Decimal = DEFAULT_BALANCE,
        currency: str | None = None,
    ) -> MockPanelHandle:
        """Create a fresh tenant on ``panel`` (through its control API) and return its handle.

        Without ``currency`` the tenant gets the profile's own currency.
        """
        if panel.control_token is None:
            raise ValueError("the panel has no control API (start it with a control token)")
        return _mint(
            panel.base_url, panel.control_token, panel.config.profile_name, balance, currency
        )

    @property
    def url(self) -> str:
        """The API endpoint, ``http://127.0.0.1:PORT/api/v2``."""
        return f"{self.base_url}/api/v2"

    def call(self, action: str, **params: object) -> tuple[int, Any]:
        """POST ``action`` form-encoded with this tenant's key; return ``(status, json)``.

        Parameters are sent as ``str(value)``; pass ``key=...`` to use another key. JSON
        decimals come back as :class:`~decimal.Decimal`.
        """
        form = {"key": self.key, "action": action}
        form.update({name: str(value) for name, value in params.items()})
        request = urllib.request.Request(
            self.url,
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        status, text = _exchange(request)
        return status, _decode(status, text, f"action {action!r}")

    def balance(self) -> Decimal:
        """This tenant's balance, read through the public ``balance`` action."""
        status, body = self.call("balance")
        if not isinstance(body, Mapping) or "balance" not in body:
            raise MockPanelError("balance answered without a balance", status, json.dumps(body))
        return Decimal(str(body["balance"]))

    def advance(self, seconds: float) -> None:
        """Move the panel's clock forward; due order and refill transitions then apply."""
        self._control("POST", "/clock/advance", {"seconds": seconds})

    def set_outcome(
        self,
        order_id: int | str,
        status: str,
        remains: int | None = None,
        start_count: int | None = None,
    ) -> None:
        """Decide how order ``order_id`` ends (e.g. ``"partial"`` with ``remains``)."""
        payload: dict[str, object] = {"status": status}
        if remains is not None:
            payload["remains"] = remains
        if start_count is not None:
            payload["start_count"] = start_count
        self._control("POST", f"/orders/{_segment(order_id)}/outcome", payload)

    def set_refill_outcome(self, refill_id: int | str, status: str) -> None:
        """Decide how refill ``refill_id`` ends."""
        self._control("POST", f"/refills/{_segment(refill_id)}/outcome", {"status": status})

    def suspend(self, tenant: str | None = None) -> None:
        """Suspend ``tenant`` (by default this handle's own): every API request of its is then
        refused with the profile's "account suspended" answer and changes nothing."""
        self._control("POST", f"/tenants/{_segment(tenant or self.tenant)}/suspend")

    def resume(self, tenant: str | None = None) -> None:
        """Lift a suspension of ``tenant`` (by default this handle's own)."""
        self._control("POST", f"/tenants/{_segment(tenant or self.tenant)}/resume")

    def journal(self) -> list[dict[str, Any]]:
        """This tenant's recorded exchanges, oldest first (its key shown as ``[redacted]``)."""
        query = urllib.parse.urlencode({"tenant": self.tenant})
        exchanges: list[dict[str, Any]] = self._control("GET", f"/journal?{query}")["exchanges"]
        return exchanges

    def new_tenant(
        self, balance: str | Decimal = DEFAULT_BALANCE, currency: str | None = None
    ) -> MockPanelHandle:
        """Mint another tenant on the same panel (e.g. to test isolation); returns its handle."""
        return _mint(self.base_url, self._control_token, self.profile, balance, currency)

    def _control(self, method: str, path: str, payload: object = None) -> Any:
        return _control(self.base_url, self._control_token, method, path, payload)

    def __repr__(self) -> str:
        # The key and the control token are secrets; reprs land in assertion messages.
        return (
            f"MockPanelHandle(profile={self.profile!r}, tenant={self.tenant!r}, url={self.url!r})"
        )


def _segment(identifier: int | str) -> str:
    return urllib.parse.quote(str(identifier), safe="")


def _control(base_url: str, token: str, method: str, path: str, payload: object = None) -> Any:
    """One control API request; anything but a 2xx raises :class:`MockPanelError`."""
    data = None if payload is None else json.dumps(payload, default=_json_default).encode()
    request = urllib.request.Request(
        f"{base_url}/_mock{path}",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    status, text = _exchange(request)
    if not 200 <= status < 300:
        raise MockPanelError(f"control {method} {path} was refused", status, text)
    return _decode(status, text, f"control {method} {path}")


def _mint(
    base_url: str, token: str, profile: str, balance: str | Decimal, currency: str | None
) -> MockPanelHandle:
    payload: dict[str, object] = {"balance": str(balance)}
    if currency is not None:
        payload["currency"] = currency
    body = _control(base_url, token, "POST", "/tenants", payload)
    return MockPanelHandle(
        base_url=base_url,
        control_token=token,
        profile=profile,
        key=str(body["key"]),
        tenant=str(body["tenant"]),
    )


def fixture_rate_limit(profile: str | Profile) -> Literal["profile", "off"]:
    """The rate limit a session-shared fixture server enforces for ``profile`` (a built-in's
    name or a profile).

    A per-address budget would be shared by every test of the session (all come from
    127.0.0.1), carrying one test's requests into the next, so it is off; per-key budgets are
    per tenant, hence per test, and stay as the profile publishes them.
    """
    from mockpanel.profiles import PROFILES

    published = PROFILES.get(profile) if isinstance(profile, str) else profile
    limit = published.rate_limit if published is not None else None
    return "off" if limit is not None and limit.scope == "ip" else "profile"


class MockPanelServers:
    """The session's panels: one per profile, started on first use, stopped by :meth:`close`."""

    def __init__(
        self, default_profile: str = DEFAULT_PROFILE, default_file: Path | None = None
    ) -> None:
        self.default_profile = default_profile
        self.default_file = default_file
        self._control_token = secrets.token_urlsafe(24)
        self._panels: dict[str, RunningPanel] = {}
        self._stack = ExitStack()

    def get(self, profile: str | None = None, *, file: Path | None = None) -> RunningPanel:
        """The running panel for the built-in ``profile``, or for the profile file ``file``
        (the session default when neither is given). A bad file raises ``ValueError`` saying
        where and why (:class:`~mockpanel.profiles.ProfileFileError`)."""
        if file is None and profile is None:
            file = self.default_file
        key = profile or self.default_profile if file is None else f"file:{file.resolve()}"
        panel = self._panels.get(key)
        if panel is None:
            # Imported here so that merely loading the plugin never imports aiohttp.
            from mockpanel.config import MockConfig
            from mockpanel.profiles import load_profile_file
            from mockpanel.server import run_panel

            served: str | Profile = key if file is None else load_profile_file(file)

            # MockConfig refuses an unknown profile with a ValueError listing the known ones.
            config = MockConfig(
                profile=served,
                control_token=self._control_token,
                clock="manual",
                rate_limit=fixture_rate_limit(served),
            )
            panel = self._stack.enter_context(run_panel(config))
            self._panels[key] = panel
        return panel

    def close(self) -> None:
        """Stop every panel; re-raises an error that happened inside a server thread."""
        self._panels.clear()
        self._stack.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockpanel", "SMM mock panel fixtures")
    group.addoption(
        "--mock-profile",
        dest="mock_profile",
        default=None,
        metavar="NAME",
        help="profile for mock_panel when a test names none (default: ini mock_profile)",
    )
    parser.addini(
        _INI,
        help="profile for mock_panel when a test names none (default: reference)",
        default=DEFAULT_PROFILE,
    )
    group.addoption(
        "--mock-profile-file",
        dest="mock_profile_file",
        default=None,
        metavar="FILE",
        help="a profile file (YAML) for mock_panel when a test names none; wins over "
        "--mock-profile (default: ini mock_profile_file)",
    )
    parser.addini(
        _INI_FILE,
        help="a profile file for mock_panel when a test names none, relative to the ini file",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(name=None, *, file=None, balance='{DEFAULT_BALANCE}', currency=None): serve "
        "mock_panel with this built-in vendor profile, or the profile file `file` (relative "
        "to the test file), and give its fresh tenant this balance",
    )


def _session_profile(config: pytest.Config) -> str:
    option = config.getoption("mock_profile")
    return str(option or config.getini(_INI) or DEFAULT_PROFILE)


def _session_file(config: pytest.Config) -> Path | None:
    """The session's profile file: the option (from the current directory), else the ini
    option (from the ini file's directory); a profile name given on the command line wins
    over the ini file."""
    option = config.getoption("mock_profile_file")
    if option:
        return Path(str(option)).absolute()
    if config.getoption("mock_profile"):
        return None
    ini = str(config.getini(_INI_FILE) or "")
    if not ini:
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return base / ini


@pytest.fixture(scope="session")
def mock_panel_server(pytestconfig: pytest.Config) -> Iterator[MockPanelServers]:
    """Session pool of running mock panels, one per profile used (manual clock)."""
    servers = MockPanelServers(_session_profile(pytestconfig), _session_file(pytestconfig))
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def mock_panel(
    request: pytest.FixtureRequest, mock_panel_server: MockPanelServers
) -> Iterator[MockPanelHandle]:
    """A fresh tenant on a running mock panel, for this test only.

    If the mock itself breaks while the test runs (an unexpected exception, answered as a
    500), the test errors at teardown with that exception: a mock bug never passes silently.
    """
    marker = request.node.get_closest_marker(MARKER)
    marker_kwargs: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    marker_profile = marker_kwargs.pop("name", None)
    if marker is not None and marker.args:
        if len(marker.args) > 1 or marker_profile is not None:
            pytest.fail(f"@pytest.mark.{MARKER} takes exactly one profile name", pytrace=False)
        marker_profile = marker.args[0]
    marker_file = marker_kwargs.pop("file", None)
    if marker_file is not None and marker_profile is not None:
        pytest.fail(f"@pytest.mark.{MARKER} takes a profile name or file=, not both",
                    pytrace=False)
    balance = marker_kwargs.pop("balance", DEFAULT_BALANCE)
    currency = marker_kwargs.pop("currency", None)
    if marker_kwargs:
        unknown = ", ".join(sorted(marker_kwargs))
        pytest.fail(f"@pytest.mark.{MARKER} got unknown arguments: {unknown}", pytrace=False)
    profile = getattr(request, "param", None) or marker_profile
    file = None
    if profile is None and marker_file is not None:
        file = request.path.parent / str(marker_file)
    try:
        panel = mock_panel_server.get(None if profile is None else str(profile), file=file)
    except ValueError as error:
        pytest.fail(str(error), pytrace=False)
    known_failures = len(panel.failures)
    yield MockPanelHandle.mint(panel, balance, currency)
    new_failures = panel.failures[known_failures:]
    if new_failures:
        raise new_failures[0]
