#!/usr/bin/env bash
# The main job: start the built-in mock panel, certify it with the harness, print the verdict
# table, and exit with the harness's exit status (0: no MUST clause failed).
#
#   ci/main.sh                    certify the reference profile
#   ci/main.sh --profile smmhub   (or: ci/main.sh smmhub) certify another built-in dialect
#   ci/main.sh --programme        the certification programme (ci/programme.sh): certify the
#                                 reference profile, sign and verify its certificate, certify two
#                                 more profiles, write their matrix and badges
#
# The certificate (report.json, report.md, report.html) is written to panel-report/<profile>/
# (or to $MAIN_REPORT_DIR when set).
#
# Sets itself up (ci/setup.sh). The keys and the control token are made up here, at random, and
# are never printed: the harness gets them through its environment variables (PANEL_KEY,
# PANEL_SECOND_KEY, PANEL_CONTROL_TOKEN), not on its command line.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

usage() {
    echo "usage: ci/main.sh [--profile NAME | NAME | --programme]   (profiles: .venv/bin/mockpanel profiles)"
}

profile=reference
programme=""
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) [ $# -ge 2 ] || { usage >&2; exit 2; }; profile=$2; shift 2 ;;
        --profile=*) profile=${1#--profile=}; shift ;;
        --programme) programme=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "ci/main.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) profile=$1; shift ;;
    esac
done

if [ -n "$programme" ]; then
    if [ "$profile" != reference ]; then
        echo "ci/main.sh: --programme certifies its own profiles (PROGRAMME_PROFILES)" >&2
        exit 2
    fi
    exec bash ci/programme.sh
fi

bash ci/setup.sh
python=.venv/bin/python
random_secret() { "$python" -c 'import secrets; print(secrets.token_hex(16))'; }

workdir=$(mktemp -d)
mock_pid=""
cleanup() {
    if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
        kill "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

main_key=$(random_secret)
second_key=$(random_secret)
token=$(random_secret)

# The mock announces its URL on stdout once it accepts connections (port 0: any free port).
"$python" -m mockpanel serve --port 0 --profile "$profile" --clock manual \
    --control-token "$token" --key "$main_key=100.00" \
    >"$workdir/mock.out" 2>"$workdir/mock.err" &
mock_pid=$!

url=""
for _ in $(seq 1 300); do
    url=$(sed -n 's/^ *API URL: *//p' "$workdir/mock.out")
    [ -n "$url" ] && break
    if ! kill -0 "$mock_pid" 2>/dev/null; then
        echo "ci/main.sh: the mock panel did not start:" >&2
        cat "$workdir/mock.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "ci/main.sh: the mock panel did not announce its URL within 30 seconds" >&2
    exit 1
fi
control_url="${url%%/api/*}/_mock"
# The profile's published rate limit, when the mock announces one, is what the harness checks.
rate_limit=$(sed -n 's|^ *rate limit: *\([0-9][0-9]*\)/min.*|\1|p' "$workdir/mock.out")

# A second account (isolation and low-balance tests), minted through the control API.
PANEL_CONTROL_TOKEN=$token PANEL_SECOND_KEY=$second_key "$python" - "$control_url" <<'PY'
import json, os, sys, urllib.request

request = urllib.request.Request(
    sys.argv[1] + "/tenants",
    data=json.dumps({"balance": "1.00", "key": os.environ["PANEL_SECOND_KEY"]}).encode(),
    headers={"Authorization": "Bearer " + os.environ["PANEL_CONTROL_TOKEN"],
             "Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(request, timeout=10) as answer:
    if answer.status != 201:
        sys.exit(f"ci/main.sh: minting the second key answered HTTP {answer.status}")
PY

echo "ci/main.sh: certifying the built-in mock panel (profile $profile) at $url"
harness_args=(
    --panel-url "$url"
    --panel-control-url "$control_url"
    --panel-profile "$profile"
    --panel-max-spend 5
    --panel-report "${MAIN_REPORT_DIR:-$repo/panel-report/$profile}"
    -p no:cacheprovider
    -o asyncio_default_fixture_loop_scope=function
)
if [ -n "$rate_limit" ]; then
    harness_args+=(--panel-rate-limit "$rate_limit")
fi

# From an empty directory: the plugin collects the shipped suite and scenarios by itself.
harness=$repo/.venv/bin/pytest
set +e
(
    cd "$workdir"
    mkdir run && cd run
    PANEL_KEY=$main_key PANEL_SECOND_KEY=$second_key PANEL_CONTROL_TOKEN=$token \
        "$harness" "${harness_args[@]}"
)
status=$?
set -e
exit "$status"
