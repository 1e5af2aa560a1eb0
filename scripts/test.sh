#!/usr/bin/env bash
# The README's second command: sets everything up, then runs the whole test suite.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "$repo"
set +e
"$repo/.venv/bin/python" -m pytest -q tests "$@"
rc=$?
set -e
# pytest's 5 means "no tests collected": a suite that tested nothing did not pass.
if [[ $rc == 5 ]]; then
    echo "test.sh: no tests were collected" >&2
    exit 1
fi
exit $rc
