#!/usr/bin/env bash
# install-deps.sh - install (from Debian's packages) exactly what churnwatch's build,
# tests and demo need. Idempotent: does nothing when everything is already installed.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang-format
  # libraries
  librdkafka-dev libhiredis-dev libssl-dev libjansson-dev libyaml-dev libyajl-dev libmicrohttpd-dev libsystemd-dev tzdata
  # tests and demo
  libcriterion-dev redis-server redis-tools openssl kcat jq python3 curl prometheus
  python3-confluent-kafka python3-redis
  # the console's browser test (headless screenshots and DOM dumps)
  chromium
  clang libclang-rt-14-dev valgrind stress-ng
  # deployment checks (systemd-analyze, yamllint, man pages, .deb)
  systemd yamllint groff-base dpkg-dev
  # the .deb's checks: hardening-check and checkbashisms (devscripts), lintian
  devscripts lintian
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian package starts a system redis-server on 6379; churnwatch's tests and demo
# run their own on free ports and do not need it.
