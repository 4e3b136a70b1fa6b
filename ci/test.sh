#!/usr/bin/env bash
# The project's test command: lint, type-check and run the whole test suite.
# Sets itself up (ci/setup.sh) so it works on a fresh machine with nothing but Python 3.11+.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh

echo "== ruff"
.venv/bin/ruff check .
echo "== mypy (strict on harness and mockpanel)"
.venv/bin/mypy
echo "== import layers (ARCHITECTURE.md; contracts in pyproject.toml)"
.venv/bin/lint-imports
echo "== pytest"
set +e
.venv/bin/pytest -n 2 -rs "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "ci/test.sh: pytest collected no tests; that is a failure here" >&2
    exit 1
fi
exit "$status"
