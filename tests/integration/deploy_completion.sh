#!/usr/bin/env bash
# deploy_completion.sh - deploy/completion/churnwatch.bash, sourced in bash, completes what
# `churnwatch --help` lists: the commands, each command's options, the values of an option
# shown as a set (--key none|account|user), and file names for -c and a command's FILE.
# The lists in the script are static, so this test is what keeps them in step with --help.
set -euo pipefail
: "${CW_BUILD_DIR:?}" "${CW_SOURCE_DIR:?}"
SCRIPT="$CW_SOURCE_DIR/deploy/completion/churnwatch.bash"
CLI="$CW_BUILD_DIR/daemon/churnwatch"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cw-completion.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

[ -f "$SCRIPT" ] || fail "$SCRIPT is missing"
bash -n "$SCRIPT" || fail "bash -n $SCRIPT"
# shellcheck source=/dev/null
source "$SCRIPT"
func=$(complete -p churnwatch | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$func" ] || fail "sourcing the script registers no completion function for churnwatch"

# offers WORD...: what the completion offers with the cursor at the end of the last word,
# sorted, one a line
offers() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "$func" churnwatch "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  [ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort
}
same() { # WHAT WANT GOT
  [ "$2" = "$3" ] || { diff -u <(echo "$2") <(echo "$3") >&2 || true; fail "$1"; }
}

"$CLI" --help >"$WORK/help.txt"
commands=$(sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' "$WORK/help.txt" | sort)
[ "$(echo "$commands" | wc -l)" -ge 5 ] || fail "cannot read the commands from churnwatch --help"
same "the commands offered differ from churnwatch --help" "$commands" "$(offers churnwatch '')"
same "top-level options" "$(printf '%s\n' --help --version -c --config | sort)" "$(offers churnwatch -)"
same "a prefix narrows the commands" "$(printf '%s\n' silence silences)" "$(offers churnwatch sil)"
pass "commands: $(echo $commands)"

checked=0
for cmd in $commands; do
  line=$(grep -E "^  $cmd( |$)" "$WORK/help.txt")
  # every command takes --help besides the options its line shows
  want=$({ echo "${line#"  $cmd"}" | { grep -oE -- '(^|[[ ])-{1,2}[a-z][a-z-]*' || true; } |
    tr -d '[ '; echo --help; } | sort -u)
  same "churnwatch $cmd: the options offered differ from --help" "$want" "$(offers churnwatch "$cmd" -)"
  # an option shown with a set of lower-case values (--key none|account|user, --end RFC3339|now)
  while read -r opt values; do
    set_values=$(echo "$values" | tr '|' '\n' | { grep -E '^[a-z]+$' || true; } | sort)
    same "churnwatch $cmd $opt: the values offered differ from --help" "$set_values" \
      "$(offers churnwatch "$cmd" "$opt" '')"
    checked=$((checked + 1))
  done < <(echo "$line" | grep -oE -- '--[a-z-]+ [A-Za-z0-9]+(\|[A-Za-z0-9]+)+' | tr -d ']' || true)
done
[ $checked -ge 2 ] || fail "found no option with a set of values in --help (expected --key, --form)"
pass "each command's options, and the values of the $checked options shown as a set"

# files: -c PATH, check-config [FILE], produce FILE, gen -o FILE; the config (-c) is skipped
# when finding the command
mkdir "$WORK/dir" && touch "$WORK/dir/conf.yaml" "$WORK/dir/events.jsonl"
cd "$WORK/dir"
same "-c completes file names" conf.yaml "$(offers churnwatch -c con)"
same "--config completes file names" conf.yaml "$(offers churnwatch --config con)"
same "produce FILE after --config PATH" events.jsonl "$(offers churnwatch --config conf.yaml produce e)"
same "check-config FILE" conf.yaml "$(offers churnwatch check-config c)"
same "produce FILE after -c PATH" events.jsonl "$(offers churnwatch -c conf.yaml produce e)"
same "gen -o FILE" events.jsonl "$(offers churnwatch gen -o ev)"
same "an ID is not a file name" "" "$(offers churnwatch account c)"
pass "file names for -c, check-config, produce and gen -o; none for an account id"
