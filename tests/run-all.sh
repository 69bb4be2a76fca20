#!/usr/bin/env bash
# run-all.sh - README command 2 and CI: install what is missing, build (release and
# ASan+UBSan), check formatting, and run every test of both builds with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

bash deploy/install-deps.sh

echo "== format check"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find daemon lib include tests -name '*.[ch]')
if [ ${#sources[@]} -gt 0 ]; then
  clang-format --dry-run -Werror "${sources[@]}"
fi

# Under `set -o pipefail` a reader that stops early (grep -q, head) can kill the
# writer with SIGPIPE and fail the pipeline although it matched: a flake on a busy box.
# Scripts pipe into `grep ... >/dev/null` (reads everything) or `sed -n 1p` instead.
echo "== script check"
if git grep -nE '\|[[:space:]]*grep -q' -- '*.sh' '*.bash' 2>/dev/null; then
  echo "the lines above pipe into grep -q (SIGPIPE under pipefail): use grep ... >/dev/null"
  exit 1
fi

status=0
for type in RelWithDebInfo Asan; do
  dir="$root/build/ci-$type"
  echo "== build $type"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "== test $type"
  # the fault-injection suite (label faults) runs in the release build only
  exclude=""
  [ "$type" = RelWithDebInfo ] || exclude="-LE faults"
  # Sanitizer reports go to files: a leak found when a test process exits does not always
  # fail the test that leaked (Criterion's workers), so any report fails the run here. The
  # file name carries the executable's name (log_exe_name), naming the process reported.
  reports="$dir/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  if ! (cd "$dir" && ASAN_OPTIONS="log_path=$reports/asan:log_exe_name=1:detect_leaks=1" \
        UBSAN_OPTIONS="log_path=$reports/ubsan:log_exe_name=1:print_stacktrace=1" \
        ctest --output-on-failure -j "$jobs" $exclude); then
    status=1
  fi
  if compgen -G "$reports/*" >/dev/null; then
    echo "== sanitizer reports ($type):"
    for f in "$reports"/*; do
      echo "-- $(basename "$f")"
      cat "$f"
    done
    status=1
  fi
done

# libFuzzer (clang): the decoder and the config loader, bounded (CW_FUZZ_SECONDS each).
echo "== fuzz"
if ! bash tests/fuzz/run.sh; then
  status=1
fi
exit $status
