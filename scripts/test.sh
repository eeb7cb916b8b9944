#!/usr/bin/env bash
# Runs every test of Kiln (unit, integration, launcher, VM boots). This is the README's test
# command and what CI runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
. scripts/java-env.sh
echo "kiln test: JAVA_HOME=$JAVA_HOME" >&2
exec mvn -B -ntp verify "$@"
