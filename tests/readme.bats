#!/usr/bin/env bats
# The README's tour, line by line, as a user would type it: each test
# takes its lines from README.md (by a fixed piece of their text), puts
# loopback stand-ins where the tour names internet hosts or fixed ports,
# runs them with bash and checks what they print. A tour line without a
# test here, or a test whose line left the tour, fails the first test.
load helpers

README=$BATS_TEST_DIRNAME/../README.md

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p bin
	ln -sf "$SOCKCTL" bin/sockctl
	export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

# tour_lines: the command lines of the code blocks under "## A short
# tour", without comment lines and blank lines.
tour_lines() {
	awk '/^## / { on = ($0 ~ /^## A short tour/) } on && /^```/ { code = !code; next }
		on && code && NF && !/^#/' "$README"
}

# tour_line KEY: sets $line to the one tour line that holds KEY (a fixed
# string); fails when none or several do.
tour_line() {
	local found
	found=$(tour_lines | grep -F -- "$1") || fail "no tour line holds '$1'"
	[[ $found != *$'\n'* ]] || fail "several tour lines hold '$1': $found"
	line=$found
}

# tour_sub FROM TO: replaces FROM by TO in $line (a stand-in); fails when
# the line lacks FROM, so a changed README line changes its test too.
tour_sub() {
	[[ $line == *"$1"* ]] || fail "'$1' is not in the tour line: $line"
	line=${line//"$1"/"$2"}
}

# run_line [STDIN-FILE]: runs $line with bash, stdin from STDIN-FILE
# (default /dev/null), stdout in $output, stderr in $stderr.
run_line() {
	run --separate-stderr timeout "$T" bash -c "$line" <"${1:-/dev/null}"
}

# bg_line NAME: runs $line in the background as NAME (stdin /dev/null),
# without a trailing '&', and waits for its readiness line: $port.
bg_line() {
	start_bg_stdin "$1" /dev/null bash -c "exec ${line%&}"
	wait_ready "$1"
}

# web NAME: a directory server with site/index.html and site/docs/, the
# stand-in for the hosts the tour fetches from: $port.
web() {
	mkdir -p site/docs
	echo "front page" >site/index.html
	echo "the docs" >site/docs/index.html
	start_bg "$1" "$SOCKCTL" http serve -d site 127.0.0.1 0
	wait_ready "$1"
}

# in_netns SCRIPT: runs the bash SCRIPT in a network namespace of its own
# with loopback up (a scan of fixed ports meets only what SCRIPT starts),
# with $listen, a function that starts `sockctl serve -k --echo` on
# 127.0.0.1 PORT and waits until it listens.
in_netns() {
	unshare -rn true 2>/dev/null ||
		skip "user/network namespaces are unavailable here (unshare -rn failed)"
	cat >ns.sh <<-'EOF'
		ip link set lo up
		# The servers go when the script does, and never hold its output.
		pids=()
		trap 'kill "${pids[@]}" 2>/dev/null' EXIT
		trap 'exit 143' TERM
		listen() {
			sockctl serve -k --echo 127.0.0.1 "$1" </dev/null >/dev/null 2>"listen$1.err" &
			pids+=($!)
			for i in $(seq 1000); do
				grep -q "listening on" "listen$1.err" && return 0
				sleep 0.01
			done
			return 1
		}
	EOF
	echo "$1" >>ns.sh
	run --separate-stderr timeout "$T" unshare -rn bash ns.sh
}

@test "every tour line has a test here, and every test's line is in the tour" {
	local keys l k n bad=""
	keys=$(sed -n "s/^[[:space:]]*tour_line '\([^']*\)'\$/\1/p" "$BATS_TEST_FILENAME")
	while read -r l; do
		n=0
		while read -r k; do
			[[ $l == *"$k"* ]] && ((n++)) || true
		done <<<"$keys"
		((n == 1)) || bad+=$'\n'"$n tests for: $l"
	done < <(tour_lines)
	while read -r k; do
		n=$(tour_lines | grep -cF -- "$k" || true)
		((n == 1)) || bad+=$'\n'"$n tour lines for the key '$k'"
	done <<<"$keys"
	# Keys are found in single quotes only.
	! grep -nE '^[[:space:]]*tour_line [^'"'"']' "$BATS_TEST_FILENAME" || bad+=$'\n'"a key not in single quotes"
	[[ -z $bad ]] || fail "README tour and tests/readme.bats disagree:$bad"
	[[ $(tour_lines | wc -l) -ge 30 ]] || fail "the tour was not found in README.md"
}

@test "tour: a client that sends a request and reads until the server closes" {
	web site
	tour_line '| sockctl connect example.org 80'
	tour_sub "example.org 80" "127.0.0.1 $port"
	run_line
	assert_success
	assert_line --index 0 --regexp '^HTTP/1\.[01] 200 '
	assert_line "front page"
}

@test "tour: serve -k --echo on a free port" {
	tour_line 'sockctl serve -k --echo 0'
	bg_line echo
	run timeout "$T" sockctl connect 127.0.0.1 "$port" <<<"echoed"
	assert_success
	assert_output "echoed"
}

@test "tour: --respond with printf escapes is an HTTP server curl understands" {
	tour_line 'sockctl serve -k --respond'
	tour_sub " 8080" " 0"
	bg_line resp
	run timeout "$T" curl -sS -D headers "http://127.0.0.1:$port/"
	assert_success
	assert_output "hi"
	grep -q '^HTTP/1.0 200 OK' headers
}

@test "tour: a UDP server answers every sender" {
	tour_line 'sockctl serve -u --upper 0'
	bg_line upper
	run timeout "$T" sockctl udp-send -w 1 127.0.0.1 "$port" hello
	assert_success
	assert_output "HELLO"
	run timeout "$T" sockctl udp-send -w 1 127.0.0.1 "$port" again
	assert_output "AGAIN"
}

@test "tour: copy a file; the receiver writes another file than the sender reads" {
	head -c $((4 * 1024 * 1024 / SCALE)) /dev/urandom >backup.tar
	tour_line 'sockctl serve 9000 > received.tar'
	tour_sub " 9000" " 0"
	bg_line receiver
	tour_line 'sockctl connect -v 127.0.0.1 9000 < backup.tar'
	tour_sub " 9000" " $port"
	run_line
	assert_success
	[[ $stderr == *"connected to 127.0.0.1:$port"* ]] || fail "no -v details: $stderr"
	wait_exit "$receiver_pid"
	[ "$status" -eq 0 ]
	cmp backup.tar received.tar
}

@test "tour: an abstract Unix socket" {
	local name="@sockctl-readme-$$-$BATS_TEST_NUMBER"
	tour_line 'sockctl serve -k --echo -U @demo'
	tour_sub "@demo" "$name"
	bg_line unix
	tour_line 'echo hi | sockctl connect -U @demo'
	tour_sub "@demo" "$name"
	run_line
	assert_success
	assert_output "hi"
}

@test "tour: --sh-exec greets each client by address" {
	tour_line 'sockctl serve -k --sh-exec'
	bg_line exec
	run timeout "$T" sockctl connect 127.0.0.1 "$port" <<<"and back"
	assert_success
	assert_output $'hi 127.0.0.1\nand back'
}

@test "tour: connect -z scans the listed ports (in a namespace of its own)" {
	tour_line 'sockctl connect -z 127.0.0.1 22,80,443,8000-8100'
	in_netns "listen 8080 && $line"
	assert_success
	assert_line "127.0.0.1 8080 open"
	assert_line "127.0.0.1 22 closed"
	assert_line "127.0.0.1 8100 closed"
	[[ $(grep -c open <<<"$output") == 1 ]]
	[[ ${#lines[@]} == 104 ]] || fail "${#lines[@]} ports reported, not 104"
}

@test "tour: a request through a SOCKS5 proxy (dante)" {
	local danted sp i
	danted=$(command -v danted || echo /usr/sbin/danted)
	[[ -x $danted ]] || skip "danted is not installed (dante-server, build-aux/install-deps.sh)"
	web site
	local webport=$port
	sp=$(free_port)
	cat >dante.conf <<-EOF
		logoutput: stderr
		internal: 127.0.0.1 port = $sp
		external: 127.0.0.1
		clientmethod: none
		socksmethod: none
		$([[ $(id -u) == 0 ]] && printf 'user.privileged: root\nuser.unprivileged: nobody')
		client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
		socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: connect }
	EOF
	start_bg dante "$danted" -f dante.conf -N 1 -p dante.pid
	# danted does not say when it listens.
	for ((i = 0; i < 500; i++)); do
		[[ -n $(sockctl connect -z --open 127.0.0.1 "$sp") ]] && break
		kill -0 "$dante_pid" 2>/dev/null || fail "danted exited: $(cat dante.err)"
		sleep 0.02
	done
	tour_line 'sockctl connect --proxy 127.0.0.1:1080 --proxy-type socks5 example.org 80'
	tour_sub "127.0.0.1:1080" "127.0.0.1:$sp"
	tour_sub "example.org 80" "127.0.0.1 $webport"
	printf 'GET /docs/ HTTP/1.0\r\n\r\n' >request
	run_line request
	assert_success
	assert_line --index 0 --regexp '^HTTP/1\.[01] 200 '
	assert_line "the docs"
}

@test "tour: --workers 2 with a connection limit and an access rule" {
	tour_line 'sockctl serve -k --workers 2 --echo -m 1000 --allow 127.0.0.0/8 8080'
	tour_sub " 8080" " 0"
	bg_line workers
	local i
	for i in 1 2 3 4; do
		run timeout "$T" sockctl connect 127.0.0.1 "$port" <<<"worker $i"
		assert_success
		assert_output "worker $i"
	done
}

@test "tour: the half-open scan of every port (sudo: root in a namespace of its own)" {
	tour_line 'sudo sockctl connect -z --syn --open 127.0.0.1 1-65535'
	# The namespace's root has CAP_NET_RAW there; sudo is not needed.
	tour_sub "sudo " ""
	in_netns "listen 2222 && listen 8080 && $line"
	[[ $stderr == *"raw socket"* || $stderr == *CAP_NET_RAW* ]] &&
		skip "no raw sockets in a user namespace here: $stderr"
	assert_success
	assert_output $'127.0.0.1 2222 open\n127.0.0.1 8080 open'
}

@test "tour: a UDP server that drops datagrams from outside 10.0.0.0/8" {
	tour_line 'sockctl serve -u -v --allow 10.0.0.0/8 --echo 0.0.0.0 7007'
	# Loopback instead of every interface, and a free port.
	tour_sub "0.0.0.0 7007" "127.0.0.1 0"
	bg_line acl
	run --separate-stderr timeout "$T" sockctl udp-send -w 0.5 127.0.0.1 "$port" "from loopback"
	assert_failure 1
	assert_output ""
	wait_file_contains "$BATS_TEST_TMPDIR/acl.err" "dropped datagram of 13 bytes from 127.0.0.1:"
}

@test "tour: --model=fork --stats=json prints exact totals at exit" {
	tour_line 'sockctl serve -k --model=fork --stats=json --echo 9000'
	tour_sub " 9000" " 0"
	bg_line fork
	run timeout "$T" sockctl connect 127.0.0.1 "$port" <<<"hello"
	assert_output "hello"
	run timeout "$T" sockctl connect 127.0.0.1 "$port" <<<"again"
	assert_output "again"
	kill -TERM "$fork_pid"
	wait_exit "$fork_pid"
	[ "$status" -eq 0 ]
	run tail -n 1 fork.err
	assert_output --regexp '^\{"sent":12,"received":12,"seconds":[0-9.]+,"connections":2\}$'
}

@test "tour: datagrams to the UDP echo server: arguments, lines, a timed burst" {
	tour_line 'sockctl serve -u --echo 7000'
	tour_sub " 7000" " 0"
	bg_line udpecho
	tour_line 'sockctl udp-send -w 1 127.0.0.1 7000 hello world'
	tour_sub " 7000" " $port"
	run_line
	assert_success
	assert_output $'hello\nworld'
	tour_line '| sockctl udp-send --lines -w 1 127.0.0.1 7000'
	tour_sub " 7000" " $port"
	run_line
	assert_success
	assert_output $'a\nb'
	tour_line 'sockctl udp-send -v -c 1000 --interval 1 --size 64 -w 1 127.0.0.1 7000'
	tour_sub " 7000" " $port"
	run_line
	assert_success
	[[ $stderr == *"sent 1000, received "*", lost "*"rtt min/avg/max"* ]] ||
		fail "no statistics: $stderr"
	[[ ${#lines[@]} -gt 900 ]] || fail "only ${#lines[@]} replies of 1000"
}

# The one tour line that needs resolve to take -x beside names, --service
# and --protocol in one call (before that it was a usage error, exit 2).
@test "tour: resolve a name, an address, a service and a protocol in one call (needs resolve -x beside names)" {
	tour_line 'sockctl resolve localhost -x 127.0.0.1 --service https --protocol icmp'
	run_line
	assert_success
	assert_output --partial "127.0.0.1"
	assert_output --partial "localhost"
	assert_output --partial "443/tcp"
	assert_output --partial "icmp"
}

@test "tour: --server asks a DNS server directly: JSON, and --short for a file of names" {
	command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
	local dp i
	dp=$(free_port)
	start_bg dns dnsmasq -k --user= --group= --conf-file=/dev/null --no-resolv --no-hosts \
		--listen-address=127.0.0.1 --bind-interfaces --port="$dp" --local=/example.org/ \
		--mx-host=example.org,mail.example.org,10 --txt-record=example.org,"v=spf1 -all" \
		--host-record=example.org,192.0.2.10 --host-record=www.example.org,192.0.2.11
	for ((i = 0; i < 500; i++)); do
		[[ $(sockctl resolve --server "127.0.0.1:$dp" --timeout 0.2 --short example.org 2>/dev/null) == 192.0.2.10 ]] && break
		kill -0 "$dns_pid" 2>/dev/null || fail "dnsmasq exited: $(cat dns.err)"
		sleep 0.02
	done
	tour_line 'sockctl resolve --server 127.0.0.1:5353 --json -t MX,TXT example.org'
	tour_sub "127.0.0.1:5353" "127.0.0.1:$dp"
	run_line
	assert_success
	assert_line --index 0 --partial '"type":"MX","rcode":"NOERROR"'
	assert_line --index 0 --partial '"data":"10 mail.example.org."'
	assert_line --index 1 --partial '"data":"\"v=spf1 -all\""'
	printf '%s\n' www.example.org example.org >names.txt
	tour_line 'sockctl resolve --server 127.0.0.1:5353 --short -f names.txt'
	tour_sub "127.0.0.1:5353" "127.0.0.1:$dp"
	run_line
	assert_success
	assert_output $'192.0.2.11\n192.0.2.10'
}

@test "tour: a chat room, a terminal client and a message piped from a script" {
	tour_line 'sockctl chat serve 4000'
	tour_sub " 4000" " 0"
	bg_line chat
	local chatport=$port
	mkfifo alice.in
	tour_line 'sockctl chat connect --name alice --room dev 127.0.0.1 4000'
	tour_sub " 4000" " $chatport"
	start_bg_stdin alice alice.in bash -c "exec $line"
	exec 8>alice.in
	wait_file_contains "$BATS_TEST_TMPDIR/alice.out" "you are now alice"
	tour_line '| sockctl chat connect -N ci -r dev 127.0.0.1 4000'
	tour_sub " 4000" " $chatport"
	run_line
	assert_success
	wait_file_contains "$BATS_TEST_TMPDIR/alice.out" "<ci> deploy done"
	exec 8>&-
	wait_exit "$alice_pid"
	[ "$status" -eq 0 ]
}

@test "tour: http serve a directory, then fetch it with redirects and timings" {
	mkdir -p site/docs
	echo "the docs" >site/docs/index.html
	tour_line 'sockctl http serve -d site'
	tour_sub "-d site" "-d site 127.0.0.1 0"
	bg_line site
	tour_line 'sockctl http get -L -w -o page.html http://127.0.0.1:8000/docs'
	tour_sub "127.0.0.1:8000" "127.0.0.1:$port"
	run_line
	assert_success
	[[ $stderr == *"first byte"*"total"* ]] || fail "no timings: $stderr"
	assert_equal "$(cat page.html)" "the docs"
}

@test "tour: http serve --respond mocks a failing service" {
	tour_line 'sockctl http serve --respond --status 503'
	tour_sub " 9000" " 0"
	bg_line mock
	run timeout "$T" curl -sS -i "http://127.0.0.1:$port/any/path"
	assert_success
	assert_line --index 0 --regexp '^HTTP/1\.1 503 '
	assert_line --partial "Retry-After: 5"
	[[ $output == *down ]] || fail "no body: $output"
}

@test "tour: a TLS server without a certificate, a client that checks its pin" {
	tour_line 'sockctl serve -k --tls --echo 8443'
	tour_sub " 8443" " 127.0.0.1 0"
	bg_line tls
	local pin
	pin=$(sed -n 's/.*, tls pin \(sha256\/\/[A-Za-z0-9+/=]*\))$/\1/p' tls.err)
	[[ -n $pin ]] || fail "no pin on the readiness line: $(cat tls.err)"
	tour_line 'echo hi | sockctl connect --tls --pin'
	tour_sub "sha256//PIN-FROM-THE-READINESS-LINE" "$pin"
	tour_sub " 8443" " $port"
	run_line
	assert_success
	assert_output "hi"
}

@test "tour: --cert-info=json and --expires-within instead of s_client | x509 -dates" {
	start_bg tls "$SOCKCTL" serve -k --tls --echo 127.0.0.1 0
	wait_ready tls
	local pin
	pin=$(sed -n 's/.*, tls pin \(sha256\/\/[A-Za-z0-9+/=]*\))$/\1/p' "$BATS_TEST_TMPDIR/tls.err")
	tour_line 'sockctl connect --tls --cert-info=json --expires-within 14'
	tour_sub "example.org 443" "--pin $pin 127.0.0.1 $port"
	run_line
	assert_success # a temporary certificate is good for 30 days
	python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); assert d["certificates"][0]["days_left"] >= 29' <<<"$output"
	tour_sub "--expires-within 14" "--expires-within 31"
	run_line
	assert_failure 110
}

@test "tour: http get https, verified" {
	mkdir -p site
	echo "over tls" >site/index.html
	start_bg web "$SOCKCTL" http serve --tls -d site 127.0.0.1 0
	wait_ready web
	local pin
	pin=$(sed -n 's/.*, tls pin \(sha256\/\/[A-Za-z0-9+/=]*\))$/\1/p' "$BATS_TEST_TMPDIR/web.err")
	tour_line 'sockctl http get https://example.org/'
	tour_sub "https://example.org/" "--pin $pin https://127.0.0.1:$port/"
	run_line
	assert_success
	assert_output "over tls"
}

@test "tour: DNS over TLS (dnsmasq behind sockctl serve --tls)" {
	command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
	local dport
	dport=$(free_port)
	start_bg dns dnsmasq -k --user= --group= --conf-file=/dev/null --no-resolv --no-hosts \
		--listen-address=127.0.0.1 --bind-interfaces --port="$dport" \
		--host-record=example.org,192.0.2.7
	for _ in $(seq 500); do
		ss -Htln "sport = :$dport" | grep -q . && break
		sleep 0.01
	done
	start_bg dot "$SOCKCTL" serve -k --tls --sh-exec "exec $SOCKCTL connect 127.0.0.1 $dport" \
		127.0.0.1 0
	wait_ready dot
	local pin
	pin=$(sed -n 's/.*, tls pin \(sha256\/\/[A-Za-z0-9+/=]*\))$/\1/p' "$BATS_TEST_TMPDIR/dot.err")
	tour_line 'sockctl resolve --tls --server 9.9.9.9'
	tour_sub "--server 9.9.9.9 --sni dns.quad9.net" "--server 127.0.0.1:$port --pin $pin"
	run_line
	assert_success
	assert_line --partial $'example.org.\t0\tIN\tA\t192.0.2.7'
}

@test "tour: connect --starttls smtp (a scripted mail server)" {
	export PKI=$BATS_TEST_TMPDIR/pki
	# shellcheck source=tests/tls_pki.bash
	source "$BATS_TEST_DIRNAME/tls_pki.bash"
	(make_test_pki "$PKI")
	start_bg mx "$PY" "$BATS_TEST_DIRNAME/starttls_peer.py" smtp "$PKI/good-chain.pem" "$PKI/good.key"
	wait_ready mx
	tour_line 'sockctl connect --starttls smtp'
	tour_sub "mail.example.org 25" "--cacert $PKI/root.pem localhost $port"
	line="echo quit | $line"
	run_line
	assert_success
	assert_output "QUIT"
}

@test "tour: forward a port to a web server, one -v line per connection" {
	web site
	tour_line 'sockctl forward -v 8080 example.org 80'
	tour_sub "8080 example.org 80" "0 127.0.0.1 $port"
	bg_line fwd
	run timeout "$T" curl -sS "http://127.0.0.1:$port/"
	assert_success
	assert_output "front page"
	wait_file_contains "$BATS_TEST_TMPDIR/fwd.err" ", closed"
}

@test "tour: the event loop backends, and a server on poll" {
	tour_line 'sockctl --mux=help'
	run_line
	assert_success
	assert_line "auto"
	assert_line "select"
	assert_line "poll"
	tour_line 'sockctl serve --mux=poll -k --echo 0'
	bg_line poll
	grep -q "(tcp, mux=poll)" poll.err
	run timeout "$T" sockctl connect 127.0.0.1 "$port" <<<"on poll"
	assert_output "on poll"
}
