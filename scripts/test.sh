#!/usr/bin/env bash
# The README's second command: sets everything up, then runs the whole test suite twice:
#   1. with the real data in ../shared (SALCROP_SHARED), every test;
#   2. as a stranger's clone sees it: SALCROP_SHARED pointed at a folder that does not exist, where the tests that
#      need the data must skip (one reason, counted at the end) and every other test must still pass.
# SALCROP_STRANGER_RUN=0 leaves out the second run (a quicker local check); arguments go to both pytest runs.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "$repo"

run_pytest() {
    set +e
    "$repo/.venv/bin/python" -m pytest -q tests "$@"
    local rc=$?
    set -e
    # pytest's 5 means "no tests collected": a suite that tested nothing did not pass.
    if [[ $rc == 5 ]]; then
        echo "test.sh: no tests were collected" >&2
        rc=1
    fi
    return $rc
}

rc=0
echo "==> the test suite, with the real data ($(cd "$repo/.." && pwd)/shared unless SALCROP_SHARED says otherwise)"
run_pytest "$@" || rc=$?
if [[ ${SALCROP_STRANGER_RUN:-1} != 0 ]]; then
    missing=$repo/.cache/no-shared-data-here
    rm -rf "$missing"
    echo "==> the test suite as a clone without ../shared runs it (SALCROP_SHARED=$missing, absent)"
    # SALCROP_DATA (the package's own pointer to the eye-tracking data) follows SALCROP_SHARED in conftest.py.
    ( unset SALCROP_DATA; export SALCROP_SHARED=$missing; run_pytest -p no:cacheprovider "$@" ) \
        || { r=$?; [[ $rc != 0 ]] || rc=$r; }
fi
exit $rc
