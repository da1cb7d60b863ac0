# fish completion for sockctl

# __sockctl_is PATH...: true when the command line so far is at one of the
# PATHs: '' before the command, 'serve', 'chat' before its subcommand,
# 'chat connect', 'help http', ... Options (and the value of a separate
# --mux) are skipped, so `chat connect` is never taken for `connect`.
function __sockctl_is
	set -l words (commandline -opc)
	set -e words[1]
	set -l path
	set -l skip 0
	for w in $words
		if test $skip = 1
			set skip 0
			continue
		end
		switch $w
			case --mux
				set skip 1
			case '-*'
			case '*'
				set -a path $w
				if test (count $path) = 2; or not contains -- $path[1] chat http help
					break
				end
		end
	end
	contains -- "$path" $argv
end

set -l commands serve connect udp-send resolve chat http help
complete -c sockctl -f
complete -c sockctl -n "__sockctl_is help" -a "$commands" -d command
complete -c sockctl -n "__sockctl_is 'help chat'" -a 'serve connect'
complete -c sockctl -n "__sockctl_is 'help http'" -a 'serve get'
complete -c sockctl -n "__sockctl_is ''" -a serve -d 'listen; relay or run a handler'
complete -c sockctl -n "__sockctl_is ''" -a connect -d 'connect and relay stdin/stdout'
complete -c sockctl -n "__sockctl_is ''" -a help -d 'show help for a command'
complete -c sockctl -n "__sockctl_is serve" -l echo -d 'send back what each client sends'
complete -c sockctl -n "__sockctl_is serve" -l upper -d 'echo upper-cased'
complete -c sockctl -n "__sockctl_is serve" -l discard -d 'read and drop'
complete -c sockctl -n "__sockctl_is serve" -l broker -d 'relay between the clients'
complete -c sockctl -n "__sockctl_is serve" -l stall-timeout -x -d 'drop a client stalled this long (seconds)'
complete -c sockctl -n "__sockctl_is serve" -l respond -r -d 'send TEXT or @FILE, then close'
complete -c sockctl -n "__sockctl_is serve" -s k -l keep-open -d 'serve many clients'
complete -c sockctl -n "__sockctl_is serve" -l backlog -x -d 'listen backlog'
complete -c sockctl -n "__sockctl_is serve connect" -s u -l udp -d 'UDP'
complete -c sockctl -n "__sockctl_is serve connect" -s U -l unix -r -d 'Unix socket path'
complete -c sockctl -n "__sockctl_is serve connect" -s i -l idle -x -d 'idle timeout (seconds)'
complete -c sockctl -n "__sockctl_is serve connect" -s q -l quit-after -x -d 'quit after stdin EOF (seconds)'
complete -c sockctl -n "__sockctl_is serve connect" -l no-shutdown -d 'no FIN on stdin EOF'
complete -c sockctl -n "__sockctl_is serve connect" -l send-only -d 'only send'
complete -c sockctl -n "__sockctl_is serve connect" -l recv-only -d 'only receive'
complete -c sockctl -n "__sockctl_is serve connect" -l no-zero-copy -d 'no splice/sendfile'
complete -c sockctl -n "__sockctl_is connect" -s w -l wait -x -d 'connect timeout (seconds)'
complete -c sockctl -n "__sockctl_is connect" -s s -l source -x -d 'source address'
complete -c sockctl -n "__sockctl_is connect" -s p -l source-port -x -d 'source port'
complete -c sockctl -l mux -x -a 'auto select poll epoll' -d 'event loop backend'
complete -c sockctl -s 4 -d 'IPv4 only'
complete -c sockctl -s 6 -d 'IPv6 only'
complete -c sockctl -s n -l numeric -d 'no name lookups'
complete -c sockctl -s v -l verbose -d 'verbose'
complete -c sockctl -s q -l quiet -d 'quiet'
complete -c sockctl -s h -l help -d 'help'
complete -c sockctl -l version -d 'show the version'
complete -c sockctl -n "__sockctl_is ''" -a resolve -d 'names, addresses, services, protocols'
set -l res "__sockctl_is resolve"
complete -c sockctl -n $res -s x -l reverse -d 'look up numeric addresses in reverse'
complete -c sockctl -n $res -s t -l type -x -a 'A AAAA CNAME MX NS TXT SRV PTR SOA CAA HINFO ANY AXFR' -d 'record type'
complete -c sockctl -n $res -s f -l file -r -F -d 'read names from a file'
complete -c sockctl -n $res -s p -l port -x -d 'port of servers given without one'
complete -c sockctl -n $res -l server -x -d 'DNS server IP[:PORT]'
complete -c sockctl -n $res -l tcp -d 'always use TCP'
complete -c sockctl -n $res -l no-tcp-fallback -d 'keep truncated UDP answers'
complete -c sockctl -n $res -l no-edns -d 'send no EDNS0 OPT record'
complete -c sockctl -n $res -l timeout -x -d 'seconds per try'
complete -c sockctl -n $res -l tries -x -d 'tries per server'
complete -c sockctl -n $res -l parallel -x -d 'queries in flight'
complete -c sockctl -n $res -l short -d 'data only'
complete -c sockctl -n $res -l json -d 'one JSON document per lookup'
complete -c sockctl -n $res -l service -x -d 'service NAME|PORT[/PROTO]'
complete -c sockctl -n $res -l protocol -x -d 'protocol NAME|NUMBER'
complete -c sockctl -n $res -l hostname -d 'this host name'
complete -c sockctl -n $res -l fqdn -d 'this canonical name'
complete -c sockctl -n "__sockctl_is ''" -a http -d 'HTTP server and client'
complete -c sockctl -n "__sockctl_is http" -a 'serve get'
set -l hs "__sockctl_is 'http serve'"
complete -c sockctl -n $hs -s d -l dir -r -a '(__fish_complete_directories)' -d 'directory to serve'
complete -c sockctl -n $hs -l no-listing -d '403 for directories without index.html'
complete -c sockctl -n $hs -l dotfiles -d 'serve names starting with a dot'
complete -c sockctl -n $hs -l symlinks -x -a 'inside follow deny' -d 'symbolic links'
complete -c sockctl -n $hs -l mime-types -r -d 'MIME types file'
complete -c sockctl -n $hs -l header -x -d 'extra response header'
complete -c sockctl -n $hs -l respond -d 'fixed-response mode'
complete -c sockctl -n $hs -l status -x -d 'status for --respond'
complete -c sockctl -n $hs -l body -x -d 'body for --respond, or @FILE'
complete -c sockctl -n $hs -l upload -d 'accept PUT'
complete -c sockctl -n $hs -l overwrite -d 'let --upload replace files'
complete -c sockctl -n $hs -l max-upload -x -d 'largest PUT body'
complete -c sockctl -n $hs -l log-format -x -a 'combined json none' -d 'access log format'
complete -c sockctl -n $hs -l header-timeout -x -d 'deadline for a request head'
complete -c sockctl -n $hs -l idle-timeout -x -d 'keep-alive idle timeout'
complete -c sockctl -n $hs -l send-timeout -x -d 'send progress timeout'
complete -c sockctl -n $hs -l max-conns -x -d 'connections at once'
complete -c sockctl -n $hs -l workers -x -d 'processes sharing the port'

# http get
set -l hget "__sockctl_is 'http get'"
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
complete -c sockctl -n "__sockctl_is serve" -l model -x -a 'loop fork thread' -d 'concurrency model'
complete -c sockctl -n "__sockctl_is serve" -l workers -r -d 'worker processes'
complete -c sockctl -n "__sockctl_is serve" -s m -l max-conns -r -d 'connection limit'
complete -c sockctl -n "__sockctl_is serve" -l allow -r -d 'admit address or CIDR'
complete -c sockctl -n "__sockctl_is serve" -l deny -r -d 'refuse address or CIDR'
complete -c sockctl -n "__sockctl_is serve" -l allow-file -r -d 'admit list file'
complete -c sockctl -n "__sockctl_is serve" -l deny-file -r -d 'refuse list file'
complete -c sockctl -n "__sockctl_is serve" -l fd -r -d 'inherited listening socket'
complete -c sockctl -n "__sockctl_is serve" -l reuseport -d 'SO_REUSEPORT'
complete -c sockctl -n "__sockctl_is connect" -s z -l scan -d 'port scan'
complete -c sockctl -n "__sockctl_is connect" -l parallel -r -d 'connects at once'
complete -c sockctl -n "__sockctl_is connect" -l json -d 'JSON lines'
complete -c sockctl -n "__sockctl_is connect" -l open -d 'open ports only'
complete -c sockctl -n "__sockctl_is connect" -l syn -d 'half-open scan over a raw socket'
complete -c sockctl -n "__sockctl_is connect" -l proxy -r -d 'proxy HOST:PORT'
complete -c sockctl -n "__sockctl_is connect" -l proxy-type -x -a 'http socks4 socks5' -d 'proxy protocol'
complete -c sockctl -n "__sockctl_is connect" -l proxy-auth -r -d 'USER:PASS'
complete -c sockctl -n "__sockctl_is connect" -l proxy-dns -x -a 'remote local' -d 'where names resolve'
complete -c sockctl -n "__sockctl_is connect" -l shutdown-delay -x -d 'hold the FIN after stdin EOF (seconds)'
complete -c sockctl -n "__sockctl_is serve connect" -s e -l exec -r -d 'run a program on each connection'
complete -c sockctl -n "__sockctl_is serve connect" -s c -l sh-exec -r -d 'run a shell command on each connection'
complete -c sockctl -n "__sockctl_is serve connect" -l nodelay -d 'TCP_NODELAY'
complete -c sockctl -n "__sockctl_is serve connect" -l sndbuf -r -d 'send buffer'
complete -c sockctl -n "__sockctl_is serve connect" -l rcvbuf -r -d 'receive buffer'
complete -c sockctl -n "__sockctl_is serve connect" -l keepalive -d 'TCP keepalive'
complete -c sockctl -n "__sockctl_is serve connect" -l tos -x -a 'lowdelay throughput reliability mincost ef' -d 'IP TOS'
complete -c sockctl -n "__sockctl_is serve connect" -l ttl -r -d 'IP TTL'
complete -c sockctl -n "__sockctl_is serve connect" -l linger -r -d 'SO_LINGER seconds'
complete -c sockctl -n "__sockctl_is serve connect" -l bind-dev -r -d 'interface'
complete -c sockctl -n "__sockctl_is serve connect" -s o -l output -r -d 'raw session log'
complete -c sockctl -n "__sockctl_is serve connect" -s x -l hex-dump -r -d 'hex dump log'
complete -c sockctl -n "__sockctl_is serve connect" -l append -d 'append to the logs'
complete -c sockctl -n "__sockctl_is serve connect" -s C -l crlf -d 'send CRLF line endings'
complete -c sockctl -n "__sockctl_is serve connect" -l progress -d 'live progress'
complete -c sockctl -n "__sockctl_is serve connect" -l stats -x -a 'json text' -d 'totals format'
# TLS (sockctl(1), TLS)
complete -c sockctl -n "__sockctl_is serve connect" -l tls -d 'TLS on the connection'
complete -c sockctl -n "__sockctl_is serve connect" -l cert -r -d 'certificate (PEM)'
complete -c sockctl -n "__sockctl_is serve connect" -l key -r -d 'private key (PEM)'
complete -c sockctl -n "__sockctl_is serve connect" -l alpn -x -d 'ALPN protocols, comma separated'
complete -c sockctl -n "__sockctl_is serve connect" -l tls-min -x -a '1.2 1.3' -d 'lowest TLS version'
complete -c sockctl -n "__sockctl_is serve connect" -l tls-max -x -a '1.2 1.3' -d 'highest TLS version'
complete -c sockctl -n "__sockctl_is serve connect" -l ciphers -x -d 'TLS 1.2 ciphers'
complete -c sockctl -n "__sockctl_is serve connect" -l ciphersuites -x -d 'TLS 1.3 cipher suites'
complete -c sockctl -n "__sockctl_is serve connect" -l handshake-timeout -x -d 'give up a handshake after (seconds)'
complete -c sockctl -n "__sockctl_is serve" -l client-ca -r -d 'require client certificates from this CA'
complete -c sockctl -n "__sockctl_is connect" -l cacert -r -d 'CA certificates to verify against'
complete -c sockctl -n "__sockctl_is connect" -s k -l insecure -d 'do not verify the certificate'
complete -c sockctl -n "__sockctl_is connect" -l sni -x -d 'SNI name to send and verify'
complete -c sockctl -n "__sockctl_is connect" -l no-sni -d 'send no SNI'
complete -c sockctl -n "__sockctl_is connect" -l tls-allow-truncation -d 'a close without close_notify is EOF'
complete -c sockctl -n "__sockctl_is connect" -l pin -x -d 'SPKI pin the server key must match (sha256//BASE64)'
complete -c sockctl -n "__sockctl_is connect" -l cert-info -d 'print the handshake and certificates, then exit'
# Its value only after '=' (optional: "--cert-info json" would be a host).
complete -c sockctl -n "__sockctl_is connect; and string match -q -- '--cert-info=*' (commandline -ct)" \
	-f -a '--cert-info=json --cert-info=text'
complete -c sockctl -n "__sockctl_is connect" -l expires-within -x -d 'exit 110 when the certificate expires within (days)'
complete -c sockctl -n "__sockctl_is ''" -a udp-send -d 'send datagrams and wait for the replies'
set -l us "__sockctl_is udp-send"
complete -c sockctl -n $us -l lines -d 'one datagram per stdin line'
complete -c sockctl -n $us -l hex -d 'payloads and replies in hex'
complete -c sockctl -n $us -l size -x -d 'bytes of filler'
complete -c sockctl -n $us -s c -l count -x -d 'datagrams to send'
complete -c sockctl -n $us -l interval -x -d 'milliseconds between datagrams'
complete -c sockctl -n $us -l rate -x -d 'datagrams per second'
complete -c sockctl -n $us -s w -l wait -x -d 'seconds to wait for replies'
complete -c sockctl -n $us -l replies -x -d 'stop after N replies'
complete -c sockctl -n $us -l from -d 'prefix replies with their sender'
complete -c sockctl -n $us -l recv-buffer -x -d 'receive buffer for one reply'
complete -c sockctl -n $us -s s -l source -x -d 'local address or socket path'
complete -c sockctl -n $us -s p -l source-port -x -d 'local port'
complete -c sockctl -n $us -s U -l unix -r -F -d 'Unix datagram socket'
complete -c sockctl -n $us -l broadcast -d 'allow a broadcast destination'
complete -c sockctl -n $us -l ttl -x -d 'IP TTL or hop limit'
complete -c sockctl -n $us -l json -d 'one JSON object at the end'
complete -c sockctl -n $us -l interface -x -a '(__fish_print_interfaces)' -d 'multicast interface'

# chat
complete -c sockctl -n "__sockctl_is ''" -a chat -d 'multi-user line chat'
complete -c sockctl -n "__sockctl_is chat" -a 'serve connect'
complete -c sockctl -n "__sockctl_is 'chat serve' 'chat connect'" -s U -l unix -r -d 'Unix socket path'
complete -c sockctl -n "__sockctl_is 'chat connect'" -l color -x -a 'auto always never' -d 'colour names'
complete -c sockctl -n "__sockctl_is 'chat serve'" -s m -l max-clients -x -d 'most clients at once'
complete -c sockctl -n "__sockctl_is 'chat serve'" -l max-line -x -d 'longest line in bytes'
complete -c sockctl -n "__sockctl_is 'chat serve'" -l queue -x -d 'output queue per client in bytes'
complete -c sockctl -n "__sockctl_is 'chat serve'" -l flood -x -d 'lines a second per client'
complete -c sockctl -n "__sockctl_is 'chat serve'" -l show-addresses -d 'show client addresses'
complete -c sockctl -n "__sockctl_is 'chat connect'" -s N -l name -x -d 'nickname'
complete -c sockctl -n "__sockctl_is 'chat connect'" -s r -l room -x -d 'room to join'
