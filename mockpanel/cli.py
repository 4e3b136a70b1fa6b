"""The ``mockpanel`` command: ``serve`` the mock on a socket, or work with ``profiles``: list
them, ``show`` one as a file to edit, ``infer`` one from a HAR recording, ``diff`` two by the
shapes of their answers.

Bare ``mockpanel`` is ``mockpanel serve`` with every default: the reference profile on
127.0.0.1:8080 with one invented demo key. That key is printed once, because the user asked the
server to make it up and has no other way to learn it; keys given with ``--key`` and the control
token are never echoed, not even in error messages.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from contextlib import suppress
from decimal import Decimal, InvalidOperation
from pathlib import Path
from secrets import token_hex
from typing import Any, NoReturn, TextIO

from mockpanel import __version__
from mockpanel.config import MockConfig
from mockpanel.profiles import (
    BUILTIN_NAMES,
    PROFILES,
    Profile,
    ProfileFileError,
    RateLimit,
    load_profile_file,
    load_profile_text,
)
from mockpanel.profiles.files import builtin_text
from mockpanel.profiles.writing import profile_yaml
from mockpanel.server import API_PATH, CONTROL_PATH, serve_forever
from mockpanel.state import StoreError
from mockpanel.wire.ratelimit import limit_for
from mockpanel.wire.recorder import empty_recording
from smmhar import write_atomic, write_text_atomic

__all__ = ["DEMO_BALANCE", "build_parser", "main", "parse_key", "parse_rate_limit"]

DEMO_BALANCE = Decimal("100.00")
_DEFAULT_PORT = 8080


def parse_key(text: str) -> tuple[str, Decimal]:
    """Parse ``KEY=BALANCE`` (split at the last ``=``, so keys may contain ``=``).

    Only the shape is judged here; :class:`MockConfig` judges the key and the amount. Error
    messages never repeat the key: it is a secret even when it is malformed.
    """
    key, sep, raw_balance = text.rpartition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected KEY=BALANCE, e.g. --key mykey=100.00")
    try:
        return key, Decimal(raw_balance)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(
            f"the BALANCE part must be a decimal number, got {raw_balance!r}"
        ) from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535 (0 = any free port), got {port}")
    return port


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_rate_limit(text: str) -> RateLimit:
    """Parse ``N/min`` or ``N/min:key`` / ``N/min:ip`` (counted per API key unless ``ip``)."""
    rate, _, scope = text.partition(":")
    count, _, unit = rate.partition("/")
    if unit != "min" or not count.isdigit() or int(count) < 1 or scope not in ("", "key", "ip"):
        raise argparse.ArgumentTypeError(
            f"expected N/min[:key|ip] with N >= 1, e.g. --rate-limit 60/min:key; got {text!r}"
        )
    return RateLimit(int(count), "ip" if scope == "ip" else "key")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockpanel",
        description="A stateful mock of an SMM panel API v2 (PerfectPanel-style reseller API).",
    )
    parser.add_argument("--version", action="version", version=f"mockpanel {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve the mock panel (the default command)",
        description="Serve the mock panel until Ctrl-C or SIGTERM.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=_port,
        default=_DEFAULT_PORT,
        help=f"TCP port; 0 picks a free one (default {_DEFAULT_PORT})",
    )
    dialect = serve.add_mutually_exclusive_group()
    dialect.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="reference",
        help="built-in vendor dialect to emulate (see `mockpanel profiles`; default reference)",
    )
    dialect.add_argument(
        "--profile-file",
        default=None,
        metavar="FILE",
        help="emulate the dialect in this profile file (YAML; start from `mockpanel profiles "
        "show NAME` or `mockpanel profiles infer run.har`)",
    )
    serve.add_argument(
        "--key",
        dest="keys",
        type=parse_key,
        action="append",
        default=[],
        metavar="KEY=BALANCE",
        help="an API key and its starting balance; repeatable. Without it a demo key is made up",
    )
    serve.add_argument(
        "--control-token",
        default=None,
        metavar="TOKEN",
        help="enable the control API under /_mock, guarded by this Bearer token",
    )
    serve.add_argument(
        "--clock",
        choices=("real", "manual"),
        default="real",
        help="real: orders progress with time; manual: only POST /_mock/clock/advance moves it",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed for every random choice")
    serve.add_argument(
        "--journal-size",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="exchanges kept in the journal (default 1000)",
    )
    serve.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="keep tenants, balances, orders, refills and the clock in this SQLite file across "
        "restarts (default: in memory); --key keys already in it keep their balance and orders",
    )

    limits = serve.add_mutually_exclusive_group()
    limits.add_argument(
        "--rate-limit",
        dest="rate_limit",
        type=parse_rate_limit,
        default=None,  # the profile's; not "profile", which argparse would feed to the type
        metavar="N/min[:key|ip]",
        help="answer 429 beyond N requests a minute per key (or per client address with :ip); "
        "default: the profile's published limit",
    )
    limits.add_argument(
        "--no-rate-limit",
        dest="rate_limit",
        action="store_const",
        const="off",
        help="never throttle, whatever the profile publishes",
    )
    serve.add_argument(
        "--webhook-url",
        default=None,
        metavar="URL",
        help="POST every order status change here (profiles that send webhooks, e.g. extended); "
        "tenants may set their own through the control API",
    )

    serve.add_argument(
        "--record",
        default=None,
        metavar="FILE",
        help="record every API request and the mock's answer in FILE as HAR 1.2 (open it in a "
        "browser's developer tools), API keys redacted; rewritten at most once a second and at "
        "shutdown, so a killed server leaves a readable file",
    )

    # Errors found after parsing are reported against `serve`, with its usage line.
    serve.set_defaults(command_parser=serve)

    _profiles_parser(commands)
    return parser


def _profiles_parser(commands: Any) -> None:
    profiles = commands.add_parser(
        "profiles",
        help="list the built-in profiles; show, infer or diff profiles",
        description="Without a subcommand: list the built-in profiles, one line each.",
    )
    sub = profiles.add_subparsers(dest="profiles_command", metavar="SUBCOMMAND")
    show = sub.add_parser(
        "show",
        help="print a built-in profile as a file to copy and edit",
        description="Print the built-in profile NAME as a self-contained profile file, every "
        "setting shown (save it, edit it, serve it with --profile-file).",
    )
    show.add_argument("name", choices=BUILTIN_NAMES, metavar="NAME")
    show.add_argument(
        "--as-shipped",
        action="store_true",
        help="print the shipped file as written: only what differs from the profile it "
        "extends, with the comments that say why",
    )
    infer = sub.add_parser(
        "infer",
        help="write a profile inferred from a HAR recording",
        description="Read a HAR 1.2 recording (pytest --panel-record, mockpanel serve --record, "
        "or a browser's or proxy's export) and write the profile it shows; what the "
        "recording did not show keeps the reference's value and is listed under not_observed.",
    )
    infer.add_argument("recording", metavar="RECORDING.har")
    infer.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="the profile file to write (YAML)")
    infer.add_argument("--name", default=None,
                       help="the profile's name (default: the output file's name)")
    diff = sub.add_parser(
        "diff",
        help="compare two profiles by the answers they give to a fixed script of requests",
        description="Serve A and B in process, send both the same script of requests (every "
        "action, every error kind) and print where their answers differ in shape, field type, "
        "error wording or HTTP status. Exit status 0: the same; 1: they differ.",
    )
    diff.add_argument("a", metavar="A", help="a built-in profile's name or a profile file")
    diff.add_argument("b", metavar="B", help="a built-in profile's name or a profile file")
    diff.add_argument(
        "--harness-steps",
        action="store_true",
        help="compare only the steps a harness run takes too (what a profile inferred from a "
        "harness recording can know): leaves out account suspension, the mock's magic-link "
        "outcomes, an order caught In progress, a rejected refill and other endpoint paths",
    )
    profiles.set_defaults(command_parser=profiles)


def _config(args: argparse.Namespace) -> tuple[MockConfig, bool]:
    """Build the config; the flag says whether the key was invented (and so may be shown)."""
    keys: list[tuple[str, Decimal]] = args.keys
    invented = not keys
    if invented:
        keys = [(token_hex(16), DEMO_BALANCE)]
    try:
        profile: str | Profile = args.profile
        if args.profile_file is not None:
            profile = load_profile_file(args.profile_file)
        config = MockConfig(
            profile=profile,
            keys=tuple(keys),
            control_token=args.control_token,
            clock=args.clock,
            seed=args.seed,
            journal_size=args.journal_size,
            state_file=args.state,
            rate_limit="profile" if args.rate_limit is None else args.rate_limit,
            webhook_url=args.webhook_url,
            record=args.record,
        )
    except ProfileFileError as exc:
        _fail(f"--profile-file {exc}")
    except ValueError as exc:  # MockConfig's messages never repeat a key or the token
        args.command_parser.error(str(exc))
    return config, invented


def _announce(config: MockConfig, base_url: str, invented: bool, out: TextIO) -> None:
    profile = config.dialect
    if config.control_token is None:
        control = "off (pass --control-token TOKEN to enable it)"
    else:
        control = f"{base_url}{CONTROL_PATH} (Authorization: Bearer <your --control-token>)"
    lines = [
        f"mockpanel {__version__}: profile {profile.name} - {profile.summary}",
        f"  API URL:     {base_url}{API_PATH}",
        f"  control API: {control}",
    ]
    if invented:
        ((key, balance),) = config.keys
        lines.append(f"  demo key:    {key} (balance {balance} {profile.currency})")
    else:
        lines.append(f"  keys:        {len(config.keys)} from --key")
    lines.append(f"  clock:       {config.clock}, seed {config.seed}")
    limit = limit_for(config, profile)
    per = "per key" if limit is None or limit.scope == "key" else "per client address"
    lines.append(f"  rate limit:  {'none' if limit is None else f'{limit.per_minute}/min {per}'}")
    lines.append(f"  state:       {config.state_file or 'in memory'}")
    if config.record is not None:
        lines.append(f"  recording:   {config.record} (HAR 1.2, keys redacted)")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), file=out, flush=True)


async def _serve_until_signalled(
    config: MockConfig, host: str, port: int, invented: bool, out: TextIO
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # No loop signal handlers on Windows: there Ctrl-C arrives as KeyboardInterrupt.
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await serve_forever(
        config,
        host,
        port,
        stop=stop,
        ready=lambda base_url: _announce(config, base_url, invented, out),
    )


def _serve(args: argparse.Namespace) -> int:
    config, invented = _config(args)
    if config.record is not None:
        try:  # an unwritable path is said now, not as a failure to listen
            write_atomic(Path(config.record), empty_recording())
        except OSError as exc:
            print(f"mockpanel: cannot write --record {config.record}: {exc.strerror or exc}",
                  file=sys.stderr)
            return 1
    try:
        asyncio.run(_serve_until_signalled(config, args.host, args.port, invented, sys.stdout))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"mockpanel: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:  # an unusable --state file: its message says why
        print(f"mockpanel: {exc}", file=sys.stderr)
        return 1
    print("mockpanel: stopped", flush=True)
    return 0


def _fail(message: str) -> NoReturn:
    print(f"mockpanel: {message}", file=sys.stderr)
    raise SystemExit(2)


def _profiles(args: argparse.Namespace) -> int:
    command = args.profiles_command
    if command == "show":
        return _show(args.name, as_shipped=args.as_shipped)
    if command == "infer":
        return _infer(args.recording, args.output, args.name)
    if command == "diff":
        from mockpanel.emulate.shapes import diff_command  # serves both: imports aiohttp

        a, b = _profile_arg(args.a), _profile_arg(args.b)
        return diff_command(a, b, args.a, args.b, sys.stdout, harness_steps=args.harness_steps)
    width = max(len(name) for name in PROFILES)
    for name in sorted(PROFILES):
        print(f"{name:<{width}}  {PROFILES[name].summary}")
    return 0


def _show(name: str, *, as_shipped: bool) -> int:
    if as_shipped:
        sys.stdout.write(builtin_text(name))
        return 0
    header = (
        f"The built-in profile {name!r}, every setting shown (mockpanel profiles show {name}).\n"
        "Edit it and serve it: mockpanel serve --profile-file FILE. A file may instead start\n"
        f"with 'extends: {name}' and give only what differs."
    )
    sys.stdout.write(profile_yaml(PROFILES[name], header=header))
    return 0


def _profile_arg(text: str) -> Profile:
    """A built-in profile's name, or a profile file's path."""
    if text in PROFILES:
        return PROFILES[text]
    if not Path(text).exists():
        _fail(f"{text!r} is neither a built-in profile ({', '.join(BUILTIN_NAMES)}) nor a file")
    try:
        return load_profile_file(text)
    except ProfileFileError as exc:
        _fail(str(exc))


def _infer(recording: str, output: str, name: str | None) -> int:
    from mockpanel.emulate.infer import InferenceError, infer, inference_yaml, read_recording

    target = Path(output)
    chosen = name or target.stem
    try:
        inference = infer(read_recording(recording), name=chosen)
        text = inference_yaml(inference, source_label=Path(recording).name)
        load_profile_text(text, str(target), base=target.parent)  # what is written must serve
    except InferenceError as exc:
        _fail(str(exc))
    except ProfileFileError as exc:  # an inference bug, said as one line
        _fail(f"the profile inferred from {recording} does not load: {exc}")
    try:
        write_text_atomic(target, text)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    print(
        f"mockpanel: wrote {output}: profile {chosen!r} from {inference.exchanges} API "
        f"exchanges; {len(inference.not_observed)} setting(s) not observed keep the "
        "reference's value (listed under not_observed)"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse exits 2 on bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "profiles":
        return _profiles(args)
    if args.command is None:
        # Bare `mockpanel`: serve with every default.
        args = parser.parse_args(["serve"])
    return _serve(args)
