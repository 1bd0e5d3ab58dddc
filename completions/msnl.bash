# bash completion for msnl(8) and msnld(8). Install as
# /usr/share/bash-completion/completions/msnl (and a link named msnld), or source it.

_msnl() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    fi
    local objects="ifconfig map route host showconf apply conn health ping status reload monitor fleet"
    local globals="-j --json -p --pretty --db --socket -n --netns -V --version -h --help"
    case $prev in
        --db|--socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -n|--netns) COMPREPLY=($(compgen -W "$(ls /run/netns 2>/dev/null)" -- "$cur")); return ;;
    esac
    # The object is the first word that is not an option or an option's value.
    local i object='' command='' skip=0
    for ((i = 1; i < cword; i++)); do
        if ((skip)); then skip=0; continue; fi
        case ${words[i]} in
            --db|--socket|-n|--netns) skip=1 ;;
            -*) ;;
            *) if [[ -z $object ]]; then object=${words[i]}; elif [[ -z $command ]]; then command=${words[i]}; fi ;;
        esac
    done
    if [[ -z $object ]]; then
        COMPREPLY=($(compgen -W "$objects $globals" -- "$cur")); return
    fi
    case $object in
        ifconfig)
            if [[ -z $command ]]; then COMPREPLY=($(compgen -W "ms0 ms1 ms2 ms3 -a --all" -- "$cur"))
            else COMPREPLY=($(compgen -W "up down delete netmask" -- "$cur")); fi ;;
        map)
            if [[ -z $command ]]; then COMPREPLY=($(compgen -W "show list ls add replace del delete get flush import export" -- "$cur"))
            else case $command in
                add) COMPREPLY=($(compgen -W "comment lifetime publish" -- "$cur")) ;;
                replace) COMPREPLY=($(compgen -W "comment lifetime" -- "$cur")) ;;
                import) COMPREPLY=($(compgen -f -W "--replace -" -- "$cur")) ;;
                export) COMPREPLY=($(compgen -f -- "$cur")) ;;
            esac; fi ;;
        route)
            if [[ -z $command ]]; then COMPREPLY=($(compgen -W "show list ls add del delete" -- "$cur"))
            elif [[ $command == add ]]; then
                # MSNLADDR via HOST:PORT [priority N] [via HOST:PORT [priority N]]... key PUBKEY|auth none [mtu N]
                case $prev in
                    via|priority|key|mtu) ;;
                    auth) COMPREPLY=($(compgen -W "none" -- "$cur")) ;;
                    none) COMPREPLY=($(compgen -W "mtu" -- "$cur")) ;;
                    *:*) COMPREPLY=($(compgen -W "priority via key auth mtu" -- "$cur")) ;;
                    *) case ${words[cword-2]} in
                           priority) COMPREPLY=($(compgen -W "via key auth" -- "$cur")) ;;
                           key) COMPREPLY=($(compgen -W "mtu" -- "$cur")) ;;
                           *) COMPREPLY=($(compgen -W "via" -- "$cur")) ;;
                       esac ;;
                esac
            fi ;;
        host)
            if [[ -z $command ]]; then COMPREPLY=($(compgen -W "show set" -- "$cur"))
            else COMPREPLY=($(compgen -W "address listen private-key cluster cluster-ttl cluster-endpoint" -- "$cur")); fi ;;
        apply) COMPREPLY=($(compgen -f -W "--dry-run -n -" -- "$cur")) ;;
        conn)
            if [[ -z $command ]]; then COMPREPLY=($(compgen -W "show list ls del delete" -- "$cur"))
            elif [[ $prev == --interface ]]; then COMPREPLY=($(compgen -W "ms0 ms1 ms2 ms3" -- "$cur"))
            elif [[ $prev == --state ]]; then COMPREPLY=($(compgen -W "open up calling failed" -- "$cur"))
            elif [[ $command == show || $command == list || $command == ls ]]; then COMPREPLY=($(compgen -W "--interface --peer --state" -- "$cur")); fi ;;
        health)
            case $prev in
                --interface) COMPREPLY=($(compgen -W "ms0 ms1 ms2 ms3" -- "$cur")) ;;
                --state) COMPREPLY=($(compgen -W "up half down" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "--check --watch --interface --peer --state" -- "$cur")) ;;
            esac ;;
        ping) COMPREPLY=($(compgen -W "-c -i" -- "$cur")) ;;
        fleet) [[ -z $command ]] && COMPREPLY=($(compgen -W "show" -- "$cur")) ;;
    esac
}

_msnld() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        --db|--socket|--log-file|--cluster-ca|--cluster-cert|--cluster-key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -n|--netns) COMPREPLY=($(compgen -W "$(ls /run/netns 2>/dev/null)" -- "$cur")); return ;;
        --log-level) COMPREPLY=($(compgen -W "error warn info debug" -- "$cur")); return ;;
    esac
    COMPREPLY=($(compgen -W "--db --socket --address --listen -f --foreground --log-level --idle-timeout --log-file --metrics --receive-buffer --cluster --cluster-ttl --cluster-ca --cluster-cert --cluster-key --cluster-user --cluster-endpoint -n --netns --no-gso --no-offload -v --version -h --help" -- "$cur"))
}

complete -F _msnl msnl
complete -F _msnld msnld
