# fish completion for sockctl
set -l commands http help
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

# http get / http serve
complete -c sockctl -n "not __fish_seen_subcommand_from $commands" -a http -d 'HTTP client (get) and static file server (serve)'
complete -c sockctl -n "__fish_seen_subcommand_from http; and not __fish_seen_subcommand_from get serve" -a get -d 'fetch URLs'
complete -c sockctl -n "__fish_seen_subcommand_from http; and not __fish_seen_subcommand_from get serve" -a serve -d 'serve files or a fixed response'
set -l hget "__fish_seen_subcommand_from http; and __fish_seen_subcommand_from get"
complete -c sockctl -n $hget -s o -l output -r -F -d 'write bodies to FILE'
complete -c sockctl -n $hget -s I -l head -d 'send HEAD, print headers'
complete -c sockctl -n $hget -s i -l include -d 'print headers before the body'
complete -c sockctl -n $hget -s H -l header -x -d 'add a request header'
complete -c sockctl -n $hget -s L -l location -d 'follow redirects'
complete -c sockctl -n $hget -l max-redirs -x -d 'at most N redirects'
complete -c sockctl -n $hget -l range -x -d 'byte ranges'
complete -c sockctl -n $hget -l if-modified-since -r -F -d 'conditional request (date or file)'
complete -c sockctl -n $hget -s f -l fail -d 'exit 22 on HTTP errors'
complete -c sockctl -n $hget -s w -l timing -d 'print timings on stderr'
complete -c sockctl -n $hget -l json -d 'status, headers and timings as JSON'
complete -c sockctl -n $hget -l connect-timeout -x -d 'per-address connect timeout'
complete -c sockctl -n $hget -s m -l max-time -x -d 'limit each transfer'
complete -c sockctl -n $hget -l idle-timeout -x -d 'give up when idle'
