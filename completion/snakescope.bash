# bash completion for snakescope
_snakescope()
{
	local cur prev words cword
	_init_completion || return
	local commands="dump info maps pin"
	if ((cword == 1)); then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi
	case ${words[1]} in
	dump)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json --nonblocking --max-frames --verbose --help" -- "$cur"))
			return
		fi
		[[ $prev == --max-frames ]] && return
		;;
	info)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json --help" -- "$cur"))
			return
		fi
		;;
	maps)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json --all --watch --help" -- "$cur"))
			return
		fi
		;;
	pin)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--dry-run --all --help" -- "$cur"))
			return
		fi
		;;
	*) return ;;
	esac
	_pids
}
complete -F _snakescope snakescope
