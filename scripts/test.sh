#!/usr/bin/env bash
# Runs every test of Kiln (unit, integration, launcher, VM boots). This is the README's test
# command and what CI runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
. scripts/java-env.sh
echo "kiln test: JAVA_HOME=$JAVA_HOME" >&2
# A last line of defence under JUnit's per-test timeouts: CI gives the run 90 minutes, and a
# hang should end with a message rather than with the budget. KILN_TEST_LIMIT changes it.
limit=${KILN_TEST_LIMIT:-85m}
status=0
timeout --kill-after=30s "$limit" mvn -B -ntp verify "$@" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "kiln test: the test run did not finish within $limit and was stopped" >&2
fi
exit "$status"
