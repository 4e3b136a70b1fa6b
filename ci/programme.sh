#!/usr/bin/env bash
# The certification programme end to end, on the built-in mock (run by `ci/main.sh --programme`):
#
#   1. certify the reference profile (ci/main.sh);
#   2. make an Ed25519 key pair, sign its report.json and verify the signature offline, then
#      check that verify refuses a copy of the report with one verdict changed;
#   3. certify two more profiles (default: smartpanel smmhub; or $PROGRAMME_PROFILES);
#   4. write the panels x clauses matrix of the three (matrix.html and its twin matrix.md) and a
#      badge per report.
#
# Everything is written to panel-report/programme/ (or $PROGRAMME_DIR):
#   <profile>/report.{json,md,html}  <profile>/badge.svg  reference/report.json.sig
#   signer.pub  matrix.html  matrix.md
# The private key lives in a temporary directory, deleted at exit: only the public key is kept.
#
# Exit status 0 when the reference profile certifies, its signature verifies (and a tampered
# copy does not), and the matrix and badges are written. Another profile that does not certify
# is a finding the matrix and its badge show, not a failure of this job.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ $# -gt 0 ]; then
    echo "usage: ci/programme.sh   (settings: PROGRAMME_DIR, PROGRAMME_PROFILES)" >&2
    exit 2
fi

bash ci/setup.sh
python=$repo/.venv/bin/python
cli=$repo/.venv/bin/smm-conformance
if [ ! -x "$cli" ]; then
    echo "ci/programme.sh: $cli is missing (ci/setup.sh installs the package's commands)" >&2
    exit 1
fi

out=${PROGRAMME_DIR:-$repo/panel-report/programme}
read -r -a others <<<"${PROGRAMME_PROFILES:-smartpanel smmhub}"
profiles=(reference "${others[@]}")
mkdir -p "$out"

keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT
trap 'exit 130' INT TERM

step() { echo; echo "== ci/programme.sh: $*"; }

certify() {  # certify PROFILE: ci/main.sh's exit status (0: no MUST clause failed)
    local status=0
    MAIN_REPORT_DIR=$out/$1 bash ci/main.sh --profile "$1" || status=$?
    if [ ! -f "$out/$1/report.json" ]; then
        echo "ci/programme.sh: no certificate was written for $1 (exit status $status)" >&2
        exit 1
    fi
    return "$status"
}

step "1. certify the reference profile"
rm -rf "${profiles[@]/#/$out/}"
if ! certify reference; then
    echo "ci/programme.sh: the reference profile did not certify" >&2
    exit 1
fi

step "2. sign its certificate and verify the signature offline"
"$cli" keygen "$keys/signer.key" --public "$out/signer.pub"
"$cli" sign "$out/reference" --key "$keys/signer.key" --valid-days 90
"$cli" verify "$out/reference" --trust "$out/signer.pub"
# The same signature over a copy of the report with one verdict changed must be refused.
mkdir "$keys/tampered"
cp "$out/reference/report.json.sig" "$keys/tampered/"
"$python" - "$out/reference/report.json" "$keys/tampered/report.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
clause = next(c for c in report["clauses"] if c["verdict"] == "PASS")
clause["verdict"] = "FAIL"
json.dump(report, open(sys.argv[2], "w", encoding="utf-8"), indent=2)
PY
set +e
"$cli" verify "$keys/tampered" --trust "$out/signer.pub" >"$keys/tampered.out" 2>&1
refused=$?
set -e
if [ "$refused" -ne 1 ]; then
    echo "ci/programme.sh: verify did not refuse a tampered report (exit $refused):" >&2
    cat "$keys/tampered.out" >&2
    exit 1
fi
echo "a tampered copy is refused, as it must be: $(head -n 1 "$keys/tampered.out")"

step "3. certify ${others[*]}"
for profile in "${others[@]}"; do
    if certify "$profile"; then
        echo "ci/programme.sh: $profile certified"
    else
        echo "ci/programme.sh: $profile did not certify (shown in the matrix and its badge)"
    fi
done

step "4. the matrix and the badges"
"$cli" matrix "${profiles[@]/#/$out/}" -o "$out/matrix.html" --markdown "$out/matrix.md"
for profile in "${profiles[@]}"; do
    "$cli" badge "$out/$profile" -o "$out/$profile/badge.svg"
done
echo
echo "ci/programme.sh: done; open $out/matrix.html"
