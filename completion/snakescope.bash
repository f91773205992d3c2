# bash completion for snakescope
_snakescope()
{
	local cur prev words cword
	_init_completion || return
	local commands="dump exec info maps pdb pin record run top"
	if ((cword == 1)); then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi
	case ${words[1]} in
	dump)
		case $prev in
		-c | --core | --executable)
			_filedir
			return
			;;
		--sysroot)
			_filedir -d
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json --nonblocking --max-frames --locals --max-repr --max-items --native --native-all --verbose --core --executable --sysroot --help" -- "$cur"))
			return
		fi
		[[ $prev == --max-frames || $prev == --max-repr || $prev == --max-items ]] && return
		;;
	info)
		case $prev in
		-c | --core | --executable)
			_filedir
			return
			;;
		--sysroot)
			_filedir -d
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json --core --executable --sysroot --help" -- "$cur"))
			return
		fi
		;;
	maps)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json --all --watch --help" -- "$cur"))
			return
		fi
		;;
	exec)
		case $prev in
		-c | --code | -T | --thread | -t | --timeout) return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--code --thread --timeout --help" -- "$cur"))
			return
		fi
		# after the PID: a file of code
		local w
		for w in "${words[@]:2:cword-2}"; do
			if [[ $w =~ ^[0-9]+$ ]]; then
				_filedir
				return
			fi
		done
		;;
	pdb)
		case $prev in
		-T | --thread | -t | --timeout) return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--thread --timeout --help" -- "$cur"))
			return
		fi
		;;
	pin)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--dry-run --all --help" -- "$cur"))
			return
		fi
		;;
	run)
		case $prev in
		--max-repr | --max-items) return ;;
		--report)
			_filedir
			return
			;;
		--core-dir)
			_filedir -d
			return
			;;
		--dump-signal)
			COMPREPLY=($(compgen -W "none USR1 USR2 HUP QUIT WINCH" -- "$cur"))
			return
			;;
		esac
		local j
		for ((j = 2; j < cword; j++)); do
			if [[ ${words[j]} == -- ]]; then
				_command_offset $((j + 1))
				return
			fi
		done
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--locals --native --max-repr --max-items --core-dir --report --dump-signal --kill-on-exit --help --" -- "$cur"))
			return
		fi
		;;
	record)
		case $prev in
		-r | --rate | -d | --duration) return ;;
		-o | --output)
			_filedir
			return
			;;
		-f | --format)
			COMPREPLY=($(compgen -W "flamegraph speedscope collapsed pprof" -- "$cur"))
			return
			;;
		esac
		local i
		for ((i = 2; i < cword; i++)); do
			if [[ ${words[i]} == -- ]]; then
				_command_offset $((i + 1))
				return
			fi
		done
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--rate --duration --output --format --idle --gil --threads --subprocesses --function --nonblocking --blocking --help --" -- "$cur"))
			return
		fi
		;;
	top)
		case $prev in
		-r | --rate | -b | --batch | -d | --interval | -w | --window | -n | --rows) return ;;
		--sort)
			COMPREPLY=($(compgen -W "own% total% own-time total-time" -- "$cur"))
			return
			;;
		esac
		local i
		for ((i = 2; i < cword; i++)); do
			if [[ ${words[i]} == -- ]]; then
				_command_offset $((i + 1))
				return
			fi
		done
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--rate --idle --gil --subprocesses --batch --once --interval --window --lines --sort --rows --blocking --help --" -- "$cur"))
			return
		fi
		;;
	*) return ;;
	esac
	_pids
}
complete -F _snakescope snakescope
