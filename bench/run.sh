#!/usr/bin/env bash
# Run every benchmark and print one table (see bench/README.md):
#   bench/run.sh                 the full run (about 10 minutes on the reference machine)
#   bench/run.sh --quick         tiny parameters: checks that everything runs
#   bench/run.sh --only growth --compare bench/results/latest.json
# Any argument is passed to `python -m bench`. Installs wrk when run as root with apt-get,
# and py-spy (the `bench` extra) into .venv when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench/run.sh: installing wrk with apt-get" >&2
        apt-get install -y wrk >&2
    else
        echo "bench/run.sh: wrk is not installed; install it with" >&2
        echo "    sudo apt-get install -y wrk      (Debian/Ubuntu)" >&2
        echo "    brew install wrk                 (macOS)" >&2
        exit 2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    bash ci/setup.sh
fi
if [ ! -x .venv/bin/py-spy ]; then
    echo "bench/run.sh: installing py-spy into .venv (the bench extra)" >&2
    .venv/bin/python -m pip install --quiet -e '.[bench]'
fi

exec .venv/bin/python -m bench "$@"
