# fish completion for sockctl
set -l commands help
complete -c sockctl -f
complete -c sockctl -n "not __fish_seen_subcommand_from $commands" -a help -d 'show help for a command'
complete -c sockctl -l mux -x -a 'auto select poll epoll' -d 'event loop backend'
complete -c sockctl -s 4 -d 'IPv4 only'
complete -c sockctl -s 6 -d 'IPv6 only'
complete -c sockctl -s n -l numeric -d 'no name lookups'
complete -c sockctl -s v -l verbose -d 'verbose'
complete -c sockctl -s q -l quiet -d 'quiet'
complete -c sockctl -s h -l help -d 'help'
complete -c sockctl -l version -d 'show the version'
