#!/usr/bin/env bash
# deploy_maintscripts.sh - the .deb's maintainer scripts (deploy/debian/postinst, prerm,
# postrm) are POSIX sh (sh -n, checkbashisms) and do what docs/operations.md says for each
# dpkg action: run against fake systemctl, deb-systemd-helper and deb-systemd-invoke that
# record their calls, on copies whose system paths (/run/systemd/system, /etc/churnwatch,
# /var/lib) point into a scratch directory, so nothing on this machine is touched.
set -euo pipefail
: "${CW_SOURCE_DIR:?}"
SRC="$CW_SOURCE_DIR/deploy/debian"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cw-maint.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
command -v checkbashisms >/dev/null || fail "checkbashisms is not installed (Debian package devscripts)"

for script in postinst prerm postrm; do
  [ -x "$SRC/$script" ] || fail "$script is missing or not executable"
  sh -n "$SRC/$script" || fail "$script: sh -n"
  checkbashisms "$SRC/$script" || fail "$script: checkbashisms"
  sed -e "s|/run/systemd/system|$WORK/run/systemd/system|g" -e "s|/etc/churnwatch|$WORK/etc/churnwatch|g" \
    -e "s|/var/lib/|$WORK/var/lib/|g" "$SRC/$script" >"$WORK/$script"
  chmod +x "$WORK/$script"
  sed -e "s|$WORK/run/systemd/system||g" -e "s|$WORK/etc/churnwatch||g" -e "s|$WORK/var/lib/||g" \
    "$WORK/$script" | grep -E '/run/systemd|/etc/churnwatch|/var/lib/' &&
    fail "$script: a system path is left in the test copy"
  cmp -s <(sed "s|$WORK||g" "$WORK/$script") "$SRC/$script" || fail "$script: the copy differs"
done
pass "postinst, prerm, postrm: sh -n and checkbashisms clean"

# Fakes: each call is one line "<tool> <args>" in $WORK/calls. deb-systemd-helper answers
# its queries (debian-installed, was-enabled) with $FAKE_ENABLED: 0 yes, 1 no.
mkdir -p "$WORK/bin"
for tool in systemctl deb-systemd-helper deb-systemd-invoke; do
  cat >"$WORK/bin/$tool" <<SH
#!/bin/sh
echo "$tool \$*" >>"$WORK/calls"
case "\$*" in
*debian-installed* | *was-enabled*) exit "\${FAKE_ENABLED:-1}" ;;
esac
exit 0
SH
  chmod +x "$WORK/bin/$tool"
done

# run SYSTEMD(yes|no) ENABLED(0|1) SCRIPT ARGS...: the calls it made, one a line
run() {
  local systemd=$1 enabled=$2
  shift 2
  rm -rf "$WORK/run" && : >"$WORK/calls"
  [ "$systemd" = no ] || mkdir -p "$WORK/run/systemd/system"
  PATH="$WORK/bin:$PATH" FAKE_ENABLED=$enabled "$WORK/$@" || return
  cat "$WORK/calls"
}
# expect DESCRIPTION EXPECTED-CALLS SYSTEMD ENABLED SCRIPT ARGS...
expect() {
  local what=$1 want=$2
  shift 2
  local got
  got=$(run "$@") || fail "$what: $* failed"
  [ "$got" = "$want" ] || { diff -u <(echo "$want") <(echo "$got") >&2 || true; fail "$what: calls differ"; }
  pass "$what"
}

unit=churnwatchd.service
expect "postinst configure (first install): daemon-reload; neither enabled nor started" \
  "deb-systemd-helper debian-installed $unit
deb-systemd-helper update-state $unit
systemctl --system daemon-reload" yes 1 postinst configure
expect "postinst configure OLD (upgrade): daemon-reload, try-restart (restarts only a running daemon)" \
  "deb-systemd-helper debian-installed $unit
deb-systemd-helper update-state $unit
systemctl --system daemon-reload
deb-systemd-invoke try-restart $unit" yes 1 postinst configure 0.0.9
expect "postinst configure OLD with the unit enabled: its links refreshed, then the same restart" \
  "deb-systemd-helper debian-installed $unit
deb-systemd-helper --quiet was-enabled $unit
deb-systemd-helper enable $unit
deb-systemd-helper update-state $unit
systemctl --system daemon-reload
deb-systemd-invoke try-restart $unit" yes 0 postinst configure 0.0.9
expect "postinst configure OLD without systemd running: links' state only, no systemctl" \
  "deb-systemd-helper debian-installed $unit
deb-systemd-helper update-state $unit" no 1 postinst configure 0.0.9
expect "prerm remove: stop" "deb-systemd-invoke stop $unit" yes 1 prerm remove
expect "prerm upgrade: the daemon keeps running until the new postinst restarts it" "" yes 1 prerm upgrade
expect "prerm remove without systemd running: nothing" "" no 1 prerm remove

# remove keeps the configuration; purge removes what dpkg does not know about
mkdir -p "$WORK/etc/churnwatch" "$WORK/var/lib/private/churnwatch/sub"
echo "CHURNWATCH_REDIS_URL=redis://:secret@r:6379" >"$WORK/etc/churnwatch/churnwatchd.env"
ln -s private/churnwatch "$WORK/var/lib/churnwatch"
expect "postrm remove: daemon-reload; the configuration stays" \
  "systemctl --system daemon-reload" yes 1 postrm remove
[ -f "$WORK/etc/churnwatch/churnwatchd.env" ] && [ -d "$WORK/var/lib/private/churnwatch" ] ||
  fail "postrm remove deleted configuration or state"
expect "postrm purge: daemon-reload, the unit's links purged" \
  "systemctl --system daemon-reload
deb-systemd-helper purge $unit" yes 1 postrm purge
[ ! -e "$WORK/etc/churnwatch" ] || fail "postrm purge left /etc/churnwatch: $(ls -A "$WORK/etc/churnwatch")"
[ ! -e "$WORK/var/lib/private/churnwatch" ] && [ ! -L "$WORK/var/lib/churnwatch" ] ||
  fail "postrm purge left the StateDirectory"
pass "postrm purge: churnwatchd.env, /etc/churnwatch and the StateDirectory removed"
# a file the admin added is not the package's: it and its directory stay
mkdir -p "$WORK/etc/churnwatch/tls" && echo pem >"$WORK/etc/churnwatch/tls/ca.pem"
echo "CHURNWATCH_LOG_LEVEL=debug" >"$WORK/etc/churnwatch/churnwatchd.env"
run yes 1 postrm purge >/dev/null || fail "postrm purge with an admin's file failed"
[ -f "$WORK/etc/churnwatch/tls/ca.pem" ] && [ ! -e "$WORK/etc/churnwatch/churnwatchd.env" ] ||
  fail "postrm purge: an admin's file was removed, or churnwatchd.env kept"
pass "postrm purge keeps files it does not own (and their directory)"
expect "postrm upgrade: daemon-reload only" "systemctl --system daemon-reload" yes 1 postrm upgrade

for script in postinst prerm postrm; do
  if run yes 1 "$script" bogus-action >/dev/null 2>"$WORK/err.txt"; then
    fail "$script accepted an unknown action"
  fi
  grep -q "unknown argument 'bogus-action'" "$WORK/err.txt" || fail "$script: no clear error"
done
pass "an unknown action is an error naming it"
