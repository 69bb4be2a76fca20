#!/usr/bin/env bash
# deploy_install.sh - `cmake --install` into a DESTDIR lays out exactly the expected files
# (programs, config, unit pointed at the prefix, man pages, docs, bash completion), keeps an
# existing config, the man pages render without warnings and document every option --help
# lists (and no other), and `cpack -G DEB` builds a package with those files (man pages and large docs
# gzipped, plus copyright, changelog and lintian overrides), the config as a conffile, the
# maintainer scripts of deploy/debian and the shared-library Depends. deploy_package.sh
# checks the package's hardening and lintian, deploy_maintscripts.sh the scripts' logic.
set -euo pipefail
: "${CW_BUILD_DIR:?}" "${CW_SOURCE_DIR:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cw-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# ---- cmake --install -----------------------------------------------------------------------
D="$WORK/root"
DESTDIR="$D" cmake --install "$CW_BUILD_DIR" --prefix /usr >"$WORK/install.log" ||
  { cat "$WORK/install.log" >&2; fail "cmake --install"; }
docs=$(cd "$CW_SOURCE_DIR" && ls README.md docs/*.md docs/images/*.png | sed 's|^docs/||' | sort)
{
  printf '%s\n' ./etc/churnwatch/churnwatch.yaml ./usr/bin/churnwatch ./usr/bin/churnwatchd \
    ./usr/lib/systemd/system/churnwatchd.service ./usr/share/man/man1/churnwatch.1 \
    ./usr/share/man/man8/churnwatchd.8 ./usr/share/bash-completion/completions/churnwatch
  for f in $docs; do echo "./usr/share/doc/churnwatch/$f"; done
} | sort >"$WORK/want.txt"
(cd "$D" && find . -type f | sort) >"$WORK/got.txt"
diff -u "$WORK/want.txt" "$WORK/got.txt" || fail "installed files differ from the expected list"
cmp -s "$D/etc/churnwatch/churnwatch.yaml" "$CW_SOURCE_DIR/conf/churnwatch.yaml" ||
  fail "the installed config is not conf/churnwatch.yaml"
[ -x "$D/usr/bin/churnwatchd" ] && [ -x "$D/usr/bin/churnwatch" ] || fail "programs not executable"
grep -qx 'ExecStart=/usr/bin/churnwatchd -c /etc/churnwatch/churnwatch.yaml' \
  "$D/usr/lib/systemd/system/churnwatchd.service" || fail "unit ExecStart not at /usr/bin"
"$D/usr/bin/churnwatchd" -c "$D/etc/churnwatch/churnwatch.yaml" --check-config >/dev/null ||
  fail "the installed config does not pass the installed daemon's --check-config"
pass "cmake --install: $(wc -l <"$WORK/got.txt") files where expected; the config checks"

# a prefix other than /usr: the unit follows it
DESTDIR="$WORK/local" cmake --install "$CW_BUILD_DIR" --prefix /opt/cw >/dev/null
grep -qx 'ExecStart=/opt/cw/bin/churnwatchd -c /etc/churnwatch/churnwatch.yaml' \
  "$WORK/local/opt/cw/lib/systemd/system/churnwatchd.service" || fail "unit ExecStart not at /opt/cw/bin"
# an edited config is kept; the new default lands beside it
echo "# edited" >>"$D/etc/churnwatch/churnwatch.yaml"
DESTDIR="$D" cmake --install "$CW_BUILD_DIR" --prefix /usr >/dev/null
tail -n1 "$D/etc/churnwatch/churnwatch.yaml" | grep -x '# edited' >/dev/null || fail "reinstall overwrote an edited config"
cmp -s "$D/etc/churnwatch/churnwatch.yaml.dist" "$CW_SOURCE_DIR/conf/churnwatch.yaml" ||
  fail "reinstall did not put the new default in churnwatch.yaml.dist"
pass "prefix /opt/cw: unit ExecStart follows; reinstall keeps an edited config (.dist beside it)"

# ---- man pages and --help ------------------------------------------------------------------
for m in "$D/usr/share/man/man8/churnwatchd.8" "$D/usr/share/man/man1/churnwatch.1"; do
  LC_ALL=C.UTF-8 groff -man -z -ww "$m" 2>"$WORK/groff.txt" && [ ! -s "$WORK/groff.txt" ] ||
    { cat "$WORK/groff.txt" >&2; fail "groff warns on $m"; }
  grep -q '@PROJECT_VERSION@' "$m" && fail "$m: version not substituted"
done
# options: what --help lists and what the man page documents are the same set
opts() { grep -oE -- '--[a-z][a-z-]+' | sort -u; }
"$D/usr/bin/churnwatchd" --help | opts >"$WORK/help-d.txt"
sed 's/\\-/-/g' "$D/usr/share/man/man8/churnwatchd.8" | opts >"$WORK/man-d.txt"
diff -u "$WORK/help-d.txt" "$WORK/man-d.txt" || fail "churnwatchd --help and churnwatchd.8 list different options"
"$D/usr/bin/churnwatch" --help | opts >"$WORK/help-c.txt"
sed 's/\\-/-/g' "$D/usr/share/man/man1/churnwatch.1" | opts >"$WORK/man-c.txt"
diff -u "$WORK/help-c.txt" "$WORK/man-c.txt" || fail "churnwatch --help and churnwatch.1 list different options"
for c in $("$D/usr/bin/churnwatch" --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p'); do
  sed 's/\\-/-/g' "$D/usr/share/man/man1/churnwatch.1" | grep -E "^\.(B|BI) $c( |$)" >/dev/null ||
    fail "churnwatch.1 does not document the command '$c'"
done
pass "man pages render cleanly; they document exactly the options (and commands) --help lists"

# ---- cpack -G DEB --------------------------------------------------------------------------
(cd "$CW_BUILD_DIR" && cpack -G DEB -D CPACK_PACKAGING_INSTALL_PREFIX=/usr -B "$WORK/pkg") \
  >"$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$WORK"/pkg/churnwatch_*_*.deb)
# the installed files, with what Debian policy adds (cmake/DebianPackageTree.cmake): man pages
# and docs above 4 kB gzipped (operations.md, named by the unit, and the screenshots in
# images/, already compressed, stay plain), copyright,
# changelog, lintian overrides
{
  sed -e '/\/man\/man[18]\//s/$/.gz/' "$WORK/want.txt" | grep -v '^./usr/share/doc/'
  for f in $docs; do
    p="./usr/share/doc/churnwatch/$f"
    if [ "$f" != operations.md ] && [ "${f#images/}" = "$f" ] && [ "$(stat -c %s "$D/usr/share/doc/churnwatch/$f")" -gt 4096 ]; then
      p="$p.gz"
    fi
    echo "$p"
  done
  printf '%s\n' ./usr/share/doc/churnwatch/copyright ./usr/share/doc/churnwatch/changelog.gz \
    ./usr/share/lintian/overrides/churnwatch
} | sort >"$WORK/want-deb.txt"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $NF}' | sort >"$WORK/deb-files.txt"
diff -u "$WORK/want-deb.txt" "$WORK/deb-files.txt" || fail "the .deb's files differ from the expected list"
dpkg-deb -x "$deb" "$WORK/deb"
for page in "$WORK"/deb/usr/share/man/man*/*.gz "$WORK"/deb/usr/share/doc/churnwatch/*.gz; do
  gzip -t "$page" || fail "$page is not gzip"
done
zcat "$WORK/deb/usr/share/man/man8/churnwatchd.8.gz" | cmp -s - "$D/usr/share/man/man8/churnwatchd.8" ||
  fail "the packaged churnwatchd.8.gz is not the installed page"
cmp -s "$WORK/deb/usr/share/doc/churnwatch/copyright" "$CW_SOURCE_DIR/deploy/debian/copyright" ||
  fail "the packaged copyright is not deploy/debian/copyright"
zcat "$WORK/deb/usr/share/doc/churnwatch/changelog.gz" | sed -n 1p |
  grep -x "churnwatch ($(dpkg-deb -f "$deb" Version)) unstable; urgency=medium" >/dev/null ||
  fail "changelog.gz does not start with the package version"
dpkg-deb -I "$deb" >"$WORK/deb-info.txt"
depends=$(sed -n 's/^ Depends: //p' "$WORK/deb-info.txt")
for lib in librdkafka1 libhiredis0.14 libjansson4 libyaml-0-2 libyajl2 libsystemd0 tzdata; do
  grep -qE "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = churnwatch ] || fail "package name"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -x /etc/churnwatch/churnwatch.yaml >/dev/null ||
  fail "/etc/churnwatch/churnwatch.yaml is not a conffile"
for script in postinst prerm postrm; do
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$script" | cmp -s - "$CW_SOURCE_DIR/deploy/debian/$script" ||
    fail "the package's $script is not deploy/debian/$script"
done
pass "cpack -G DEB: $(basename "$deb"), same files (compressed as policy asks, plus copyright, changelog, overrides), conffile, maintainer scripts, Depends: $depends"
