# Sourced by Kiln's scripts: selects a Java 25 JDK (Temurin preferred) through JAVA_HOME.
# The machine's default java may be older; Kiln needs 25, so never trust PATH's java.
kiln_find_jdk25() {
  local r candidates=()
  if [ -n "${JAVA_HOME:-}" ] && grep -qs '^JAVA_VERSION="25' "$JAVA_HOME/release"; then
    echo "$JAVA_HOME"; return 0
  fi
  for r in /usr/lib/jvm/*/release; do
    grep -qs '^JAVA_VERSION="25' "$r" || continue
    if grep -qsi 'temurin\|adoptium' "$r"; then candidates=("$(dirname "$r")" "${candidates[@]}")
    else candidates+=("$(dirname "$r")"); fi
  done
  [ ${#candidates[@]} -gt 0 ] || return 1
  echo "${candidates[0]}"
}
if ! JAVA_HOME=$(kiln_find_jdk25); then
  echo "kiln: no Java 25 JDK found under /usr/lib/jvm (Temurin 25 expected); install one or set JAVA_HOME" >&2
  return 1 2>/dev/null || exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
