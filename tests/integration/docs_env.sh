#!/usr/bin/env bash
# docs_env.sh - docs/configuration.md "Environment" is the one list of the environment
# variables churnwatch reads:
#   1. its variables equal those the code reads: getenv("X") and getenv_fn("X") over daemon/
#      and lib/, the secret variables (env_secret's "X" and X_FILE, one per librdkafka secret
#      property of lib/config_secrets.c), and those libsystemd reads for sd_notify; a read
#      through a computed name that this script does not know fails it too;
#   2. every variable named in another place (README, docs/, man/, deploy/, conf/, the
#      --help of both programs) is in that list.
set -euo pipefail
: "${CW_BUILD_DIR:?CW_BUILD_DIR must point at the build directory}"
: "${CW_SOURCE_DIR:?CW_SOURCE_DIR must point at the source tree}"
cd "$CW_SOURCE_DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- the documented list: the first column of the tables of "## Environment" -------------
awk '/^## Environment$/ { f = 1; next } /^## / { f = 0 } f && /^\|/' docs/configuration.md |
  awk -F'|' '{ print $2 }' | grep -oE '`[A-Z][A-Z0-9_]*`' | tr -d '`' | sort -u >"$TMP/doc"
[ -s "$TMP/doc" ] || fail "docs/configuration.md: no \"## Environment\" tables"

# ---- what the code reads -------------------------------------------------------------------
{
  grep -rhoE '\bgetenv(_fn)?\("[A-Za-z_][A-Za-z0-9_]*"\)' daemon lib | sed -E 's/.*\("([^"]*)"\)/\1/'
  # env_secret(ctx, getenv_fn, "NAME", &out) reads NAME and NAME_FILE
  grep -rhoE 'env_secret\([^,]+, *getenv_fn, *"[A-Z0-9_]+"' lib | sed -E 's/.*"([A-Z0-9_]+)"/\1\n\1_FILE/'
  # one CHURNWATCH_KAFKA_<PROPERTY> (and _FILE) per entry of cw_kafka_secret_properties
  awk '/cw_kafka_secret_properties\[\] = \{/ { f = 1; next } f && /\};/ { f = 0 } f' lib/config_secrets.c |
    grep -oE '"[a-z0-9.]+"' | tr -d '"' | tr 'a-z.' 'A-Z_' |
    sed -E 's/.*/CHURNWATCH_KAFKA_&\nCHURNWATCH_KAFKA_&_FILE/'
  # libsystemd, for sd_notify(3) and sd_watchdog_enabled(3)
  grep -rqE '\bsd_notifyf?\(' daemon && echo NOTIFY_SOCKET
  grep -rqE '\bsd_watchdog_enabled\(' daemon && printf 'WATCHDOG_USEC\nWATCHDOG_PID\n'
} | sort -u >"$TMP/code"
# Reads through a computed name: only the ones accounted for above.
grep -rnE '\bgetenv(_fn)?\([^")]' daemon lib --include=*.c |
  grep -vE '^daemon/core/config_check\.c:[0-9]+: +return .*getenv\(name\);' |
  grep -vE '^lib/config_secret_sources\.c:[0-9]+: .*getenv_fn\((name|fname)\)' >"$TMP/computed" || true
[ ! -s "$TMP/computed" ] ||
  fail "environment read through a computed name (teach tests/integration/docs_env.sh): $(cat "$TMP/computed")"
diff -u --label "docs/configuration.md \"Environment\"" --label "read by the code" "$TMP/doc" "$TMP/code" ||
  fail "the documented environment variables differ from those the code reads"
echo "ok: docs/configuration.md lists the $(wc -l <"$TMP/doc") variables the code reads"

# ---- every other place names only listed variables ----------------------------------------
{
  grep -rHoE '\b(CHURNWATCH|CW_DEBUG)_[A-Z0-9_]*[A-Z0-9]\b' README.md docs man deploy conf || true
  "$CW_BUILD_DIR/daemon/churnwatchd" --help | grep -oE '\b(CHURNWATCH|CW_DEBUG)_[A-Z0-9_]*[A-Z0-9]\b' |
    sed 's/^/churnwatchd --help:/' || true
  "$CW_BUILD_DIR/daemon/churnwatch" --help 2>&1 | grep -oE '\b(CHURNWATCH|CW_DEBUG)_[A-Z0-9_]*[A-Z0-9]\b' |
    sed 's/^/churnwatch --help:/' || true
} | sort -u >"$TMP/named"
bad=$(awk -F: 'NR == FNR { doc[$1] = 1; next } !($NF in doc)' "$TMP/doc" "$TMP/named")
[ -z "$bad" ] || fail "variables named but not in docs/configuration.md \"Environment\":
$bad"
echo "ok: README, docs, man, deploy, conf and --help name only listed variables"
