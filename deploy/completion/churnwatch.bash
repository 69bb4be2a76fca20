# churnwatch.bash - bash completion for the churnwatch CLI: its commands, each command's
# options, the values of options that take one of a fixed set, and file names where an
# argument is a file. Installed as share/bash-completion/completions/churnwatch (loaded on
# demand by the bash-completion package, or source it). tests/integration/deploy_completion.sh
# checks it against `churnwatch --help`, so a command or option added there must be added here.
# Every command also takes --help (offered after the command's own options).

_churnwatch() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="account top check-config produce silence silences unsilence rescore export console gen users demo backtest"
    local cmd="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -c | --config) ((i++)) ;;
        -*) ;;
        *)
            cmd=${COMP_WORDS[i]}
            break
            ;;
        esac
    done

    COMPREPLY=()
    case $prev in
    -c | --config | -o | --output | --manifest | --token-file | --baseline | --episodes | --outcomes | --html)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --key)
        mapfile -t COMPREPLY < <(compgen -W "none account user" -- "$cur")
        return
        ;;
    --form)
        mapfile -t COMPREPLY < <(compgen -W "native segment cloudevents" -- "$cur")
        return
        ;;
    --end)
        mapfile -t COMPREPLY < <(compgen -W "now" -- "$cur")
        return
        ;;
    --format)
        mapfile -t COMPREPLY < <(compgen -W "jsonl csv" -- "$cur")
        return
        ;;
    --grade | --segment | --owner | --parent | --created-within | --renewal-within | --stage | --profile | --limit | --brokers | \
        --topic | --rule | --for | --reason | --seed | --accounts | --fates | --days | --listen | --allow-host | --since | --batch)
        return # a value of the user's own
        ;;
    esac

    local opts="" files=no
    case $cmd in
    "")
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "-c --config --help --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        fi
        return
        ;;
    account | users) opts="--json" ;;
    top) opts="--grade --segment --owner --parent --created-within --renewal-within --stage --profile --limit --all --json" ;;
    check-config)
        opts="--no-env"
        files=yes
        ;;
    produce)
        opts="--brokers --topic --key --force"
        files=yes
        ;;
    silence) opts="--rule --for --reason --json" ;;
    silences) opts="--json" ;;
    unsilence) opts="--rule --json" ;;
    rescore) opts="--json" ;;
    export) opts="--format --history --spreadsheet --segment --owner --grade -o" ;;
    console) opts="--listen --allow-host --token-file" ;;
    gen) opts="--seed --accounts --fates --days --end --form --manifest -o" ;;
    demo) opts="--accounts --days --seed --keep" ;;
    backtest)
        opts="--baseline --since --outcomes --churn-event --json --html --batch --episodes --from-topic"
        files=yes
        ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$opts --help" -- "$cur")
    elif [ $files = yes ]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _churnwatch churnwatch
