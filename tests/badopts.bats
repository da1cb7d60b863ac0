#!/usr/bin/env bats
# Bad values for every option of every command: one line on stderr,
# nothing on stdout, exit 2, and no server started, nothing sent. A TCP
# and a UDP listener stand where traffic would go: they must see nothing.
load helpers

setup() {
	serve_bg tcp -k --discard --stats=json 127.0.0.1 0
	TP=$port
	serve_bg udp -u --discard --stats=json 127.0.0.1 0
	UP=$port
	LONG=/tmp/$(printf 'x%.0s' {1..120})
}

# The listeners' totals: no connection, no datagram.
assert_no_traffic() {
	local n
	for n in tcp udp; do
		local pid_var="${n}_pid"
		kill -TERM "${!pid_var}"
		wait_exit "${!pid_var}"
		run tail -1 "$BATS_TEST_TMPDIR/$n.err"
		assert_output --regexp '"connections":0[,}]'
	done
}

# check_rows EXIT ROW...: each ROW is "ARGS|FRAGMENT"; ARGS is shell text
# (quotes for empty values, $TP/$UP/$LONG for the listeners and a path
# too long for a socket). Collects every row that misbehaves.
check_rows() {
	local want=$1 row args frag bad=()
	shift
	for row in "$@"; do
		args=${row%%|*}
		frag=${row#*|}
		eval "run --separate-stderr timeout 5 \"\$SOCKCTL\" $args </dev/null"
		if [[ $status != "$want" || ${#stderr_lines[@]} != 1 || -n $output ||
			$stderr != *"$frag"* ]]; then
			bad+=("sockctl $args -> exit $status, stdout '$output', stderr: $stderr")
		fi
	done
	if ((${#bad[@]})); then
		printf '%s\n' "${bad[@]}" >&2
		fail "${#bad[@]} of $# rows misbehaved"
	fi
}

# The table: command line | what the message must say. Every value-taking
# option of `sockctl CMD --help` has rows here (the last test checks).
BAD=(
	# Global options, before or after the command.
	"--mux=kq connect 127.0.0.1 \$TP|unknown mux backend 'kq'"
	"connect --mux=kq 127.0.0.1 \$TP|unknown mux backend 'kq'"
	"--mux= connect 127.0.0.1 \$TP|option '--mux' needs a value, not an empty one"
	"--mux|option '--mux' needs a value"
	"-4 -6 connect 127.0.0.1 \$TP|-4 and -6 exclude each other"
	"-6 connect -4 127.0.0.1 \$TP|-4 and -6 exclude each other"
	"udp-send -4 -6 127.0.0.1 \$UP x|-4 and -6 exclude each other"
	"-4 resolve -6 --server 127.0.0.1:\$UP x|-4 and -6 exclude each other"
	"-4 chat connect -6 127.0.0.1 \$TP|-4 and -6 exclude each other"
	"-4 http get -6 http://127.0.0.1:\$TP/|-4 and -6 exclude each other"
	"--verbose=1 connect 127.0.0.1 \$TP|option '--verbose' takes no value"
	"connect --quiet=yes 127.0.0.1 \$TP|option '--quiet' takes no value"
	"--frob|unknown option '--frob'"
	"--verbsoe connect 127.0.0.1 \$TP|did you mean '--verbose'?"
	"conect 127.0.0.1 \$TP|unknown command 'conect'; did you mean 'connect'?"
	"serv 0|did you mean 'serve'?"
	"help conect|did you mean 'connect'?"
	"chat serv 0|unknown subcommand 'serv'; did you mean 'serve'?"
	"http gte http://127.0.0.1:\$TP/|did you mean 'get'?"

	# serve
	"serve --allow '' --echo 0|option '--allow' needs a value"
	"serve --allow 10.0.0.0/33 --echo 0|--allow: bad prefix length"
	"serve --allow 10.0.0.0/-1 --echo 0|--allow:"
	"serve --allow 10.0.0.0/8x --echo 0|--allow:"
	"serve --allow 300.1.1.1 --echo 0|--allow:"
	"serve --deny '' --echo 0|option '--deny' needs a value"
	"serve --deny example.org --echo 0|--deny: 'example.org' is not an address"
	"serve --allow-file '' --echo 0|option '--allow-file' needs a value"
	"serve --deny-file '' --echo 0|option '--deny-file' needs a value"
	"serve --backlog '' --echo 0|option '--backlog' needs a value"
	"serve --backlog 0 --echo 0|invalid --backlog '0'"
	"serve --backlog -1 --echo 0|invalid --backlog '-1'"
	"serve --backlog 65536 --echo 0|invalid --backlog '65536'"
	"serve --backlog 99999999999999999999 --echo 0|invalid --backlog"
	"serve --backlog 10x --echo 0|invalid --backlog '10x'"
	"serve --bind-dev '' --echo 0|option '--bind-dev' needs a value"
	"serve --bind-dev a/b --echo 0|bad --bind-dev 'a/b'"
	"serve --bind-dev averyveryverylongname --echo 0|bad --bind-dev"
	"serve --exec '' 0|option '--exec' needs a value"
	"serve --exec ' ' 0|--exec needs a program"
	"serve --sh-exec '' 0|option '--sh-exec' needs a value"
	"serve --fd '' --echo|option '--fd' needs a value"
	"serve --fd x --echo|bad --fd 'x'"
	"serve --fd -1 --echo|bad --fd '-1'"
	"serve --fd 2 --echo|bad --fd '2'"
	"serve --fd 3x --echo|bad --fd '3x'"
	"serve --hex-dump '' --echo 0|option '--hex-dump' needs a value"
	"serve -x '' --echo 0|option '-x' needs a value"
	"serve --output '' --echo 0|option '--output' needs a value"
	"serve --idle '' --echo 0|option '--idle' needs a value"
	"serve --idle 0 --echo 0|invalid -i '0'"
	"serve --idle -1 --echo 0|invalid -i '-1'"
	"serve --idle x --echo 0|invalid -i 'x'"
	"serve --idle 5s --echo 0|invalid -i '5s'"
	"serve --idle nan --echo 0|invalid -i 'nan'"
	"serve --idle 1e99 --echo 0|invalid -i '1e99'"
	"serve --keepalive=,, --echo 0|bad --keepalive ',,'"
	"serve --keepalive= --echo 0|option '--keepalive' needs a value"
	"serve --keepalive=0 --echo 0|bad --keepalive '0'"
	"serve --keepalive=x --echo 0|bad --keepalive 'x'"
	"serve --keepalive=1,2,3,4 --echo 0|bad --keepalive"
	"serve --keepalive=99999 --echo 0|bad --keepalive '99999'"
	"serve --keepalive=1,2,200 --echo 0|bad --keepalive"
	"serve --linger '' --echo 0|option '--linger' needs a value"
	"serve --linger -1 --echo 0|bad --linger '-1'"
	"serve --linger 1.5 --echo 0|bad --linger '1.5'"
	"serve --linger 65536 --echo 0|bad --linger '65536'"
	"serve --linger 3x --echo 0|bad --linger '3x'"
	"serve --max-conns '' --echo 0|option '--max-conns' needs a value"
	"serve -m 0 --echo 0|invalid --max-conns '0'"
	"serve -m -1 --echo 0|invalid --max-conns '-1'"
	"serve -m 1000001 --echo 0|invalid --max-conns '1000001'"
	"serve -m 5k --echo 0|invalid --max-conns '5k'"
	"serve --model '' --echo 0|option '--model' needs a value"
	"serve --model forks --echo 0|invalid --model 'forks'"
	"serve --quit-after '' 0|option '--quit-after' needs a value"
	"serve --quit-after -1 0|invalid -q '-1'"
	"serve --quit-after soon 0|invalid -q 'soon'"
	"serve --rcvbuf '' --echo 0|option '--rcvbuf' needs a value"
	"serve --rcvbuf 0 --echo 0|bad --rcvbuf '0'"
	"serve --rcvbuf 1T --echo 0|bad --rcvbuf '1T'"
	"serve --rcvbuf -1 --echo 0|bad --rcvbuf '-1'"
	"serve --sndbuf '' --echo 0|option '--sndbuf' needs a value"
	"serve --sndbuf K --echo 0|bad --sndbuf 'K'"
	"serve --sndbuf 1.5M --echo 0|bad --sndbuf '1.5M'"
	"serve --sndbuf 99999999999 --echo 0|bad --sndbuf '99999999999'"
	"serve --respond @ 0|--respond @FILE needs a file name"
	"serve --mux=kq --echo 0|unknown mux backend 'kq'"
	"serve --stats '' --echo 0|option '--stats' needs a value"
	"serve --stats=xml --echo 0|invalid --stats 'xml'"
	"serve --stats=JSON --echo 0|invalid --stats 'JSON'"
	"serve --tos '' --echo 0|option '--tos' needs a value"
	"serve --tos 256 --echo 0|bad --tos '256'"
	"serve --tos 0x100 --echo 0|bad --tos '0x100'"
	"serve --tos 0x --echo 0|bad --tos '0x'"
	"serve --tos -1 --echo 0|bad --tos '-1'"
	"serve --tos cs8 --echo 0|bad --tos 'cs8'"
	"serve --tos fast --echo 0|bad --tos 'fast'"
	"serve --ttl '' --echo 0|option '--ttl' needs a value"
	"serve --ttl 0 --echo 0|bad --ttl '0'"
	"serve --ttl 256 --echo 0|bad --ttl '256'"
	"serve --ttl 6x --echo 0|bad --ttl '6x'"
	"serve --unix '' --echo|option '--unix' needs a value"
	"serve -U \$LONG --echo|invalid -U"
	"serve --workers '' -k --echo 0|option '--workers' needs a value"
	"serve --workers 0 -k --echo 0|invalid --workers '0'"
	"serve --workers 257 -k --echo 0|invalid --workers '257'"
	"serve --workers x -k --echo 0|invalid --workers 'x'"
	"serve --echo 65536|invalid port '65536'"
	"serve --echo -- -1|invalid port '-1'"
	"serve --echo nosuchservice|not a number nor a known tcp service"
	"serve --echo ''|empty port"
	"serve --echo 127.0.0.1:|missing PORT after ':'"
	"serve --echo '[foo]:0'|brackets hold an IPv6 address"
	"serve --echo a:b:c 0|invalid host 'a:b:c'"
	"serve --echo 127.0.0.1:0 1|has its port already"
	"serve --echo 127.0.0.1 0 1|unexpected argument '1'"
	"serve -l 0|serve listens already"
	"serve -p 8000|give the port as an operand"
	"serve --keep-opne --echo 0|did you mean '--keep-open'?"
	"serve --echo=1 0|option '--echo' takes no value"

	# connect
	"connect --exec '' 127.0.0.1 \$TP|option '--exec' needs a value"
	"connect --sh-exec '' 127.0.0.1 \$TP|option '--sh-exec' needs a value"
	"connect --hex-dump '' 127.0.0.1 \$TP|option '--hex-dump' needs a value"
	"connect --output= 127.0.0.1 \$TP|option '--output' needs a value"
	"connect --idle '' 127.0.0.1 \$TP|option '--idle' needs a value"
	"connect --idle -3 127.0.0.1 \$TP|invalid -i '-3'"
	"connect --quit-after '' 127.0.0.1 \$TP|option '--quit-after' needs a value"
	"connect -q soon 127.0.0.1 \$TP|invalid -q 'soon'"
	"connect --wait '' 127.0.0.1 \$TP|option '--wait' needs a value"
	"connect --wait 0 127.0.0.1 \$TP|invalid -w '0'"
	"connect -w abc 127.0.0.1 \$TP|invalid -w 'abc'"
	"connect -w 1e99 127.0.0.1 \$TP|invalid -w '1e99'"
	"connect --keepalive=,, 127.0.0.1 \$TP|bad --keepalive ',,'"
	"connect --linger x 127.0.0.1 \$TP|bad --linger 'x'"
	"connect --rcvbuf 0 127.0.0.1 \$TP|bad --rcvbuf '0'"
	"connect --sndbuf lots 127.0.0.1 \$TP|bad --sndbuf 'lots'"
	"connect --tos 0x1g 127.0.0.1 \$TP|bad --tos '0x1g'"
	"connect --ttl -1 127.0.0.1 \$TP|bad --ttl '-1'"
	"connect --bind-dev '' 127.0.0.1 \$TP|option '--bind-dev' needs a value"
	"connect --bind-dev 'a b' 127.0.0.1 \$TP|bad --bind-dev 'a b'"
	"connect -z --parallel '' 127.0.0.1 \$TP|option '--parallel' needs a value"
	"connect -z --parallel 0 127.0.0.1 \$TP|invalid --parallel '0'"
	"connect -z --parallel 65536 127.0.0.1 \$TP|invalid --parallel '65536'"
	"connect -z --parallel x 127.0.0.1 \$TP|invalid --parallel 'x'"
	"connect --proxy '' 127.0.0.1 \$TP|option '--proxy' needs a value"
	"connect --proxy nocolon 127.0.0.1 \$TP|invalid --proxy 'nocolon'"
	"connect --proxy 127.0.0.1: 127.0.0.1 \$TP|invalid --proxy '127.0.0.1:'"
	"connect --proxy :1 127.0.0.1 \$TP|invalid --proxy ':1'"
	"connect --proxy '[x]:1' 127.0.0.1 \$TP|invalid --proxy '[x]:1'"
	"connect --proxy 127.0.0.1:99999 127.0.0.1 \$TP|--proxy invalid port '99999'"
	"connect --proxy 127.0.0.1:\$TP --proxy-type '' h 1|option '--proxy-type' needs a value"
	"connect --proxy 127.0.0.1:\$TP --proxy-type ftp h 1|invalid --proxy-type 'ftp'"
	"connect --proxy 127.0.0.1:\$TP --proxy-auth '' h 1|option '--proxy-auth' needs a value"
	"connect --proxy 127.0.0.1:\$TP --proxy-auth nouser h 1|invalid --proxy-auth"
	"connect --proxy 127.0.0.1:\$TP --proxy-dns '' h 1|option '--proxy-dns' needs a value"
	"connect --proxy 127.0.0.1:\$TP --proxy-dns there h 1|invalid --proxy-dns 'there'"
	"connect --source '' 127.0.0.1 \$TP|option '--source' needs a value"
	"connect --source a:b 127.0.0.1 \$TP|invalid -s 'a:b'"
	"connect --source-port '' 127.0.0.1 \$TP|option '--source-port' needs a value"
	"connect -p abc 127.0.0.1 \$TP|-p: invalid port 'abc'"
	"connect -p 65536 127.0.0.1 \$TP|-p: invalid port '65536'"
	"connect -p 80x 127.0.0.1 \$TP|-p: invalid port '80x'"
	"connect --stats '' 127.0.0.1 \$TP|option '--stats' needs a value"
	"connect --stats=xml 127.0.0.1 \$TP|invalid --stats 'xml'"
	"connect --unix ''|option '--unix' needs a value"
	"connect -U \$LONG|invalid -U"
	"connect 127.0.0.1 0|invalid port '0'"
	"connect 127.0.0.1 65536|invalid port '65536'"
	"connect 127.0.0.1 ''|empty port"
	"connect 127.0.0.1 80x|invalid port '80x'"
	"connect 127.0.0.1 -1|negative numbers are not valid here"
	"connect 127.0.0.1|missing PORT"
	"connect|missing HOST and PORT"
	"connect 127.0.0.1 \$TP extra|unexpected argument 'extra'"
	"connect 127.0.0.1:\$TP \$TP|has its port already"
	"connect 127.0.0.1:|missing PORT after ':'"
	"connect :\$TP|missing host before ':'"
	"connect '[x]' \$TP|brackets hold an IPv6 address"
	"connect '[::1' \$TP|brackets hold an IPv6 address"
	"connect foo:bar:baz \$TP|invalid host 'foo:bar:baz'"
	"connect -z 127.0.0.1|-z needs HOST and PORTS"
	"connect -z 127.0.0.1 0|port '0' is out of range"
	"connect -z 127.0.0.1 5-1|range 5-1 is reversed"
	"connect -z 127.0.0.1 80,,81|empty item in port list '80,,81'"
	"connect -z 127.0.0.1 http,nosuch|unknown service 'nosuch'"
	"connect -z --stats=json 127.0.0.1 \$TP|-z prints one line per port"
	"connect -z -x - 127.0.0.1 \$TP|-z prints one line per port"
	"connect -l 4000|to listen, use sockctl serve"
	"connect -N 127.0.0.1 \$TP|shuts down its write side on stdin EOF already"
	"connect --porxy 127.0.0.1:1 127.0.0.1 \$TP|did you mean '--proxy'?"
	"connect --pro 127.0.0.1:1 127.0.0.1 \$TP|ambiguous option '--pro'"
	"connect --nodelay=1 127.0.0.1 \$TP|option '--nodelay' takes no value"

	# udp-send
	"udp-send --count '' 127.0.0.1 \$UP x|option '--count' needs a value"
	"udp-send -c 0 127.0.0.1 \$UP x|invalid --count '0'"
	"udp-send -c -1 127.0.0.1 \$UP x|invalid --count '-1'"
	"udp-send -c 1000000000001 127.0.0.1 \$UP x|invalid --count"
	"udp-send -c 5k 127.0.0.1 \$UP x|invalid --count '5k'"
	"udp-send --interface '' 127.0.0.1 \$UP x|option '--interface' needs a value"
	"udp-send --interface a/b 127.0.0.1 \$UP x|invalid --interface 'a/b'"
	"udp-send --interval '' 127.0.0.1 \$UP x|option '--interval' needs a value"
	"udp-send --interval 0 127.0.0.1 \$UP x|invalid --interval '0'"
	"udp-send --interval 3600001 127.0.0.1 \$UP x|invalid --interval"
	"udp-send --interval 1.5 127.0.0.1 \$UP x|invalid --interval '1.5'"
	"udp-send --rate '' 127.0.0.1 \$UP x|option '--rate' needs a value"
	"udp-send --rate 0 127.0.0.1 \$UP x|invalid --rate '0'"
	"udp-send --rate -5 127.0.0.1 \$UP x|invalid --rate '-5'"
	"udp-send --rate nan 127.0.0.1 \$UP x|invalid --rate 'nan'"
	"udp-send --rate 1e9 127.0.0.1 \$UP x|invalid --rate '1e9'"
	"udp-send --rate 10x 127.0.0.1 \$UP x|invalid --rate '10x'"
	"udp-send --recv-buffer '' 127.0.0.1 \$UP x|option '--recv-buffer' needs a value"
	"udp-send --recv-buffer 0 127.0.0.1 \$UP x|invalid --recv-buffer '0'"
	"udp-send --recv-buffer 16777217 127.0.0.1 \$UP x|invalid --recv-buffer"
	"udp-send --replies '' 127.0.0.1 \$UP x|option '--replies' needs a value"
	"udp-send --replies 0 127.0.0.1 \$UP x|invalid --replies '0'"
	"udp-send --replies x 127.0.0.1 \$UP x|invalid --replies 'x'"
	"udp-send --size '' 127.0.0.1 \$UP|option '--size' needs a value"
	"udp-send --size -1 127.0.0.1 \$UP|invalid --size '-1'"
	"udp-send --size 65537 127.0.0.1 \$UP|invalid --size '65537'"
	"udp-send --size 65508 127.0.0.1 \$UP|exceeds the largest udp datagram"
	"udp-send --source '' 127.0.0.1 \$UP x|option '--source' needs a value"
	"udp-send -s a:b 127.0.0.1 \$UP x|invalid -s 'a:b'"
	"udp-send --source-port '' 127.0.0.1 \$UP x|option '--source-port' needs a value"
	"udp-send -p abc 127.0.0.1 \$UP x|-p: invalid port 'abc'"
	"udp-send -p 65536 127.0.0.1 \$UP x|-p: invalid port '65536'"
	"udp-send -p -1 127.0.0.1 \$UP x|-p: invalid port '-1'"
	"udp-send -p 80x 127.0.0.1 \$UP x|-p: invalid port '80x'"
	"udp-send --ttl '' 127.0.0.1 \$UP x|option '--ttl' needs a value"
	"udp-send --ttl 0 127.0.0.1 \$UP x|invalid --ttl '0'"
	"udp-send --ttl 256 127.0.0.1 \$UP x|invalid --ttl '256'"
	"udp-send --unix '' x|option '--unix' needs a value"
	"udp-send -U \$LONG x|invalid -U"
	"udp-send --wait '' 127.0.0.1 \$UP x|option '--wait' needs a value"
	"udp-send -w -1 127.0.0.1 \$UP x|invalid --wait '-1'"
	"udp-send -w soon 127.0.0.1 \$UP x|invalid --wait 'soon'"
	"udp-send 127.0.0.1 0 x|invalid port '0'"
	"udp-send 127.0.0.1 65536 x|invalid port '65536'"
	"udp-send 127.0.0.1 '' x|empty port"
	"udp-send 127.0.0.1:|missing PORT after ':'"
	"udp-send a:b:c \$UP x|invalid host 'a:b:c'"
	"udp-send 127.0.0.1|missing HOST and PORT"
	"udp-send -u 127.0.0.1 \$UP x|udp-send always sends UDP"

	# resolve (options that are checked before any lookup)
	"resolve --file '' x|option '--file' needs a value"
	"resolve --parallel '' x|option '--parallel' needs a value"
	"resolve --parallel 0 x|invalid --parallel '0'"
	"resolve --parallel 10001 x|invalid --parallel '10001'"
	"resolve --parallel x x|invalid --parallel 'x'"
	"resolve --protocol ''|option '--protocol' needs a value"
	"resolve --service ''|option '--service' needs a value"
	"resolve --service 99999|invalid --service '99999'"
	"resolve --service 80x/tcp|invalid --service '80x/tcp'"
	"resolve --protocol 999|invalid --protocol '999'"
	"resolve --server '' x|option '--server' needs a value"
	"resolve --server a:b x|invalid server 'a:b'"
	"resolve --server 127.0.0.1:99999 x|invalid server '127.0.0.1:99999'"
	"resolve --server 127.0.0.1:53x x|invalid server '127.0.0.1:53x'"
	"resolve --server 127.0.0.1:\$UP --timeout '' x|option '--timeout' needs a value"
	"resolve --server 127.0.0.1:\$UP --timeout 0 x|invalid --timeout '0'"
	"resolve --server 127.0.0.1:\$UP --timeout -1 x|invalid --timeout '-1'"
	"resolve --server 127.0.0.1:\$UP --tries '' x|option '--tries' needs a value"
	"resolve --server 127.0.0.1:\$UP --tries 0 x|invalid --tries '0'"
	"resolve --server 127.0.0.1:\$UP --tries 101 x|invalid --tries '101'"
	"resolve --server 127.0.0.1:\$UP --type '' x|option '--type' needs a value"
	"resolve --server 127.0.0.1:\$UP --port '' x|option '--port' needs a value"
	"resolve --server 127.0.0.1:\$UP --port 0 x|invalid -p '0'"
	"resolve --server 127.0.0.1:\$UP --port 65536 x|invalid -p '65536'"
	"resolve --server 127.0.0.1:\$UP -p 80x x|invalid -p '80x'"
	"resolve --server 127.0.0.1:\$UP --type BOGUS x|unknown record type 'BOGUS'"
	"resolve --server 127.0.0.1:\$UP -t TYPE99999 x|unknown record type 'TYPE99999'"

	# chat serve
	"chat serve --flood '' 0|option '--flood' needs a value"
	"chat serve --flood -1 0|--flood: '-1' is not a number"
	"chat serve --flood 1000001 0|--flood: '1000001' is not a number"
	"chat serve --max-clients '' 0|option '--max-clients' needs a value"
	"chat serve --max-clients 0 0|--max-clients: '0' is not a number"
	"chat serve -m x 0|--max-clients: 'x' is not a number"
	"chat serve --max-line '' 0|option '--max-line' needs a value"
	"chat serve --max-line 1 0|--max-line: '1' is not a number"
	"chat serve --max-line 99999999 0|--max-line: '99999999' is not a number"
	"chat serve --queue '' 0|option '--queue' needs a value"
	"chat serve --queue 4095 0|--queue: '4095' is not a number"
	"chat serve --queue 1073741825 0|--queue: '1073741825' is not a number"
	"chat serve --unix ''|option '--unix' needs a value"
	"chat serve -U \$LONG|invalid -U"
	"chat serve 65536|invalid port '65536'"
	"chat serve '[x]:0'|brackets hold an IPv6 address"
	"chat serve -l 0|chat serve listens already"

	# chat connect
	"chat connect --color '' 127.0.0.1 \$TP|option '--color' needs a value"
	"chat connect --color sometimes 127.0.0.1 \$TP|--color: 'sometimes' is not auto"
	"chat connect --name '' 127.0.0.1 \$TP|option '--name' needs a value"
	"chat connect --name 'a b' 127.0.0.1 \$TP|--name 'a b'"
	"chat connect --room '' 127.0.0.1 \$TP|option '--room' needs a value"
	"chat connect --room 'a/b' 127.0.0.1 \$TP|--room 'a/b'"
	"chat connect --unix ''|option '--unix' needs a value"
	"chat connect -U \$LONG|invalid -U"
	"chat connect 127.0.0.1 0|invalid port '0'"
	"chat connect 127.0.0.1|missing PORT"
	"chat connect a:b:c \$TP|invalid host 'a:b:c'"

	# http serve
	"http serve --body '' 0|--body needs --respond"
	"http serve --respond --body @ 0|--body @FILE needs a file name"
	"http serve --body x 0|--body needs --respond"
	"http serve --respond --status 204 --body x 0|--status 204 carries no body"
	"http serve --dir '' 0|option '--dir' needs a value"
	"http serve --header '' 0|option '--header' needs a value"
	"http serve --header NoColon 0|bad --header 'NoColon'"
	"http serve --header 'a b: c' 0|bad --header 'a b: c'"
	"http serve --header-timeout '' 0|option '--header-timeout' needs a value"
	"http serve --header-timeout 0 0|bad timeout '0'"
	"http serve --idle-timeout -1 0|bad timeout '-1'"
	"http serve --idle-timeout '' 0|option '--idle-timeout' needs a value"
	"http serve --send-timeout x 0|bad timeout 'x'"
	"http serve --send-timeout '' 0|option '--send-timeout' needs a value"
	"http serve --log-format '' 0|option '--log-format' needs a value"
	"http serve --log-format xml 0|--log-format must be combined, json or none"
	"http serve --max-conns '' 0|option '--max-conns' needs a value"
	"http serve --max-conns 0 0|--max-conns must be 1..1000000, not '0'"
	"http serve --max-conns 1000001 0|--max-conns must be 1..1000000"
	"http serve --max-upload '' 0|option '--max-upload' needs a value"
	"http serve --max-upload -1 0|bad --max-upload '-1'"
	"http serve --max-upload 1T 0|bad --max-upload '1T'"
	"http serve --max-upload 99999999999999999999 0|bad --max-upload"
	"http serve --mime-types '' 0|option '--mime-types' needs a value"
	"http serve --status '' --respond 0|option '--status' needs a value"
	"http serve --status 199 --respond 0|--status must be 200..599, not '199'"
	"http serve --status 600 --respond 0|--status must be 200..599, not '600'"
	"http serve --status 2xx --respond 0|--status must be 200..599, not '2xx'"
	"http serve --symlinks '' 0|option '--symlinks' needs a value"
	"http serve --symlinks always 0|--symlinks must be inside, follow or deny"
	"http serve --workers '' 0|option '--workers' needs a value"
	"http serve --workers 0 0|--workers must be 1..256, not '0'"
	"http serve --workers 257 0|--workers must be 1..256, not '257'"
	"http serve 65536|invalid port '65536'"
	"http serve 127.0.0.1 0 1|unexpected argument '1'"
	"http serve -l 8000|http serve listens already"

	# http get
	"http get --connect-timeout '' http://127.0.0.1:\$TP/|option '--connect-timeout' needs a value"
	"http get --connect-timeout x http://127.0.0.1:\$TP/|bad --connect-timeout 'x'"
	"http get --connect-timeout -1 http://127.0.0.1:\$TP/|bad --connect-timeout '-1'"
	"http get --header '' http://127.0.0.1:\$TP/|option '--header' needs a value"
	"http get -H NoColon http://127.0.0.1:\$TP/|bad header 'NoColon'"
	"http get -H 'a b: c' http://127.0.0.1:\$TP/|bad header 'a b: c'"
	"http get --idle-timeout '' http://127.0.0.1:\$TP/|option '--idle-timeout' needs a value"
	"http get --idle-timeout 0 http://127.0.0.1:\$TP/|bad --idle-timeout '0'"
	"http get --if-modified-since '' http://127.0.0.1:\$TP/|option '--if-modified-since' needs a value"
	"http get --if-modified-since yesterday http://127.0.0.1:\$TP/|bad --if-modified-since 'yesterday'"
	"http get --max-redirs '' http://127.0.0.1:\$TP/|option '--max-redirs' needs a value"
	"http get --max-redirs -1 http://127.0.0.1:\$TP/|bad --max-redirs '-1'"
	"http get --max-redirs 1001 http://127.0.0.1:\$TP/|bad --max-redirs '1001'"
	"http get --max-time '' http://127.0.0.1:\$TP/|option '--max-time' needs a value"
	"http get -m 0 http://127.0.0.1:\$TP/|bad --max-time '0'"
	"http get -m x http://127.0.0.1:\$TP/|bad --max-time 'x'"
	"http get --output '' http://127.0.0.1:\$TP/|option '--output' needs a value"
	"http get --range '' http://127.0.0.1:\$TP/|option '--range' needs a value"
	"http get --range 5-1 http://127.0.0.1:\$TP/|bad range '5-1'"
	"http get --range x http://127.0.0.1:\$TP/|bad range 'x'"
	"http get --range 1-2-3 http://127.0.0.1:\$TP/|bad range '1-2-3'"
	"http get --range - http://127.0.0.1:\$TP/|bad range '-'"
	"http get --range 0-1, http://127.0.0.1:\$TP/|bad range '0-1,'"
	"http get -M 3 http://127.0.0.1:\$TP/|unknown option '-M'"
	"http get -X POST http://127.0.0.1:\$TP/|http get sends GET"
	"http get|no URL given"
	"http get --mux=kq http://127.0.0.1:\$TP/|unknown mux backend 'kq'"
)

# Runtime failures found before anything starts: a file that is not
# there is the system's answer, not a usage error (exit 1, one line).
MISSING=(
	"serve --allow-file /nonexistent --echo 0|--allow-file: /nonexistent"
	"serve --deny-file /nonexistent --echo 0|--deny-file: /nonexistent"
	"serve --respond @/nonexistent 0|--respond /nonexistent"
	"serve -x /nonexistent/x --echo 0|open /nonexistent/x"
	"connect -o /nonexistent/x 127.0.0.1 \$TP|open /nonexistent/x"
	"serve --fd 99 --echo|fd 99: Bad file descriptor"
	"http serve --mime-types /nonexistent 0|--mime-types /nonexistent: No such file"
	"http serve --mime-types / 0|--mime-types /: not a regular file"
	"http serve --dir /nonexistent 0|/nonexistent: No such file"
	"http serve --respond --body @/nonexistent 0|--body /nonexistent"
	"resolve --file /nonexistent|/nonexistent"
)

@test "every bad option value is one usage line, exit 2, and sends nothing" {
	check_rows 2 "${BAD[@]}"
	assert_no_traffic
}

@test "a missing file is one line, exit 1, before anything listens or connects" {
	check_rows 1 "${MISSING[@]}"
	assert_no_traffic
}

@test "the table has rows for every value-taking option of every command" {
	local cmd opt missing=() rows
	for cmd in "" serve connect udp-send resolve "chat serve" "chat connect" "http serve" \
		"http get"; do
		# shellcheck disable=SC2086
		run "$SOCKCTL" $cmd --help
		assert_success
		# "--wait SECS", "--dir=DIR", "--keepalive[=...]", "--exec 'PROG'".
		for opt in $(grep -oE -- "--[a-z][a-z0-9-]*(\[?=| [A-Z'])" <<<"$output" |
			sed -E 's/(\[?=| .)$//' | sort -u); do
			if [[ -z $cmd ]]; then
				rows=$(printf '%s\n' "${BAD[@]}" | grep -v '^[a-z]')
			else
				rows=$(printf '%s\n' "${BAD[@]}" | grep "^$cmd ")
			fi
			grep -qE -- "(^| )$opt([ =]|$)" <<<"$rows" || missing+=("${cmd:-global} $opt")
		done
	done
	((${#missing[@]} == 0)) || fail "no bad-value rows for: ${missing[*]}"
}
