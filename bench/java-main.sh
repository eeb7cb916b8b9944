#!/usr/bin/env bash
# Shared by the benchmarks' run scripts: builds MODULE and what it needs (so the classes are this
# checkout's, not stale jars from ~/.m2), then runs MAIN_CLASS from its test classes with ARGS.
# KILN_TEST_HOME, when set, moves the test Kiln home (-Dkiln.test.home).
# Usage: bench/java-main.sh MODULE MAIN_CLASS [ARGS...]
set -euo pipefail
module=$1 main=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/java-env.sh
mvn -q -B -ntp -pl "$module" -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
cd "$module"
props=()
if [ -n "${KILN_TEST_HOME:-}" ]; then props+=("-Dkiln.test.home=$KILN_TEST_HOME"); fi
exec java "${props[@]}" -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" "$main" "$@"
