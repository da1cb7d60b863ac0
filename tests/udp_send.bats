#!/usr/bin/env bats
# udp-send against real peers (sockctl serve -u --echo, socat, OpenBSD nc, a
# Python datagram peer):
# datagram boundaries, replies, concurrent senders, exit codes, bad input.
# sockctl: per-backend
load helpers

PEER="$BATS_TEST_DIRNAME/udp_peer.py"

# peer_bg NAME MODE [ARGS]: starts the Python datagram peer and waits for
# its readiness line ($port and $addr are set).
peer_bg() {
	local name=$1
	shift
	start_bg "$name" "$PY" "$PEER" "$@"
	# In a || list so that errexit does not end wait_ready's first poll.
	wait_ready "$name" || return 1
}

# hexof: stdin as lowercase hex, one line.
hexof() {
	od -An -v -tx1 | tr -d ' \n'
}

# echo_bg [ARGS]: `sockctl serve -u --echo ARGS` as "srv", ready.
echo_bg() {
	start_bg srv "$SOCKCTL" serve -u --echo "$@"
	wait_ready srv || return 1
}

# udp_free_port: a UDP port nothing is bound to (a server on port 0, stopped).
udp_free_port() {
	start_bg fp "$SOCKCTL" serve -u --discard 0
	wait_ready fp || return 1
	kill "$fp_pid"
	wait "$fp_pid" || :
	echo "$port"
}

# wait_udp_bound PORT: polls until something has bound 127.0.0.1:PORT
# (socat has no readiness line for port 0).
wait_udp_bound() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[[ -n $(ss -Huln "sport = :$1") ]] && return 0
		sleep 0.01
	done
	echo "nothing bound udp port $1" >&2
	return 1
}

socat_echo_bg() {
	port=$(udp_free_port)
	start_bg socat socat UDP-RECVFROM:"$port",bind=127.0.0.1,fork EXEC:cat
	wait_udp_bound "$port"
}

@test "socat fork echo: each MESSAGE is a datagram and each reply comes back" {
	socat_echo_bg
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send -w 5 127.0.0.1 "$port" alpha beta gamma
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	# socat forks a child per datagram, so the order may vary.
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" "alpha beta gamma "
	assert_equal "$stderr" ""
}

@test "--lines: every stdin line is its own datagram, exact bytes, no newline; -s/-p" {
	local sp
	sp=$(udp_free_port)
	peer_bg log log
	printf 'one\n\ntwo words\nlast' | timeout "$T" "$SOCKCTL" udp-send -s 127.0.0.1 -p "$sp" --lines 127.0.0.1 "$port"
	wait_file_contains "$BATS_TEST_TMPDIR/log.out" "$(printf last | hexof)"
	run cat "$BATS_TEST_TMPDIR/log.out"
	# Sent from the -s/-p source address, each line its own datagram.
	assert_output "$(printf '3 127.0.0.1:%s 6f6e65\n0 127.0.0.1:%s -\n9 127.0.0.1:%s 74776f20776f726473\n4 127.0.0.1:%s 6c617374' "$sp" "$sp" "$sp" "$sp")"

	echo_bg 0
	run bash -c "printf 'l1\nl2\nl3\n' | timeout $T '$SOCKCTL' udp-send --lines -w 5 127.0.0.1 $port"
	assert_success
	assert_output "$(printf 'l1\nl2\nl3')"
}

@test "default: all of stdin is one datagram; --hex both ways is binary-safe" {
	echo_bg 0
	run --separate-stderr bash -c "printf 'a\nb\n\0c' | od -An -v -tx1 | timeout $T '$SOCKCTL' udp-send --hex -w 5 127.0.0.1 $port"
	assert_success
	assert_output "610a620a0063"
	run timeout "$T" "$SOCKCTL" udp-send --hex -w 5 127.0.0.1 "$port" "00 ff:10" DEAD
	assert_success
	assert_output "$(printf '00ff10\ndead')"
	printf 'x\ny\n' | timeout "$T" "$SOCKCTL" udp-send -w 5 127.0.0.1 "$port" >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(hexof <"$BATS_TEST_TMPDIR/out")" "780a790a"
}

@test "OpenBSD nc -u -l hears the datagram and its reply comes back" {
	mkfifo "$BATS_TEST_TMPDIR/ncin"
	start_bg_stdin nc "$BATS_TEST_TMPDIR/ncin" nc -v -u -l 127.0.0.1 0
	exec 7>"$BATS_TEST_TMPDIR/ncin"
	local i
	for ((i = 0; i < 1000; i++)); do
		port=$(sed -n 's/^Bound on .* \([0-9][0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/nc.err")
		[[ -n $port ]] && break
		sleep 0.01
	done
	[[ -n $port ]]
	start_bg us timeout "$T" "$SOCKCTL" udp-send --from -w 10 127.0.0.1 "$port" hello
	wait_file_contains "$BATS_TEST_TMPDIR/nc.out" hello
	echo pong >&7
	exec 7>&-
	wait_exit "$us_pid"
	[ "$status" -eq 0 ]
	assert_equal "$(cat "$BATS_TEST_TMPDIR/us.out")" "$(printf '127.0.0.1:%s\tpong' "$port")"
}

@test "concurrent senders each get exactly their own replies" {
	echo_bg 0
	local i
	for i in 1 2 3 4 5 6; do
		start_bg "s$i" timeout "$T" "$SOCKCTL" udp-send -c 40 --rate 4000 -w 5 127.0.0.1 "$port" "s$i-a" "s$i-b"
	done
	for i in 1 2 3 4 5 6; do
		local pv="s${i}_pid"
		wait_exit "${!pv}"
		[ "$status" -eq 0 ] || fail "sender $i: $(cat "$BATS_TEST_TMPDIR/s$i.err")"
		run sort "$BATS_TEST_TMPDIR/s$i.out"
		assert_equal "$(sort -u "$BATS_TEST_TMPDIR/s$i.out" | tr '\n' ' ')" "s$i-a s$i-b "
		assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/s$i.out")" 40
	done
}

@test "packet generator: --count/--size/--interval with -v statistics and matched replies" {
	echo_bg 0
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send -v -c 50 --size 64 --rate 20000 -w 5 127.0.0.1 "$port"
	assert_success
	[ "${#lines[@]}" -eq 50 ]
	# Filler carries its sequence number: every datagram answered once.
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -c1-16 | sort -u | wc -l)" 50
	assert_equal "$(printf '%s\n' "${lines[@]}" | awk '{ print length($0) }' | sort -u)" 64
	[[ $stderr == *"sent 50, received 50, lost 0 (0.0%), rtt min/avg/max "*" ms"* ]]
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send -c 3 --interval 20 -w 5 127.0.0.1 "$port" ping
	assert_success
	assert_output "$(printf 'ping\nping\nping')"
}

@test "--replies N stops after N replies; timeouts and unreachable ports exit 1 and say which" {
	start_bg srv "$SOCKCTL" serve -u --respond xxxxx 0
	wait_ready srv || return 1
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --replies 2 127.0.0.1 "$port" a b c
	assert_success
	assert_output "$(printf 'xxxxx\nxxxxx')"

	start_bg sink "$SOCKCTL" serve -u --discard 0
	wait_ready sink || return 1
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send -w 0.3 127.0.0.1 "$port" nobody-answers
	assert_failure 1
	assert_equal "$stderr" "sockctl: timeout: no reply from 127.0.0.1:$port within 0.3 s"

	local dead
	dead=$(udp_free_port)
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send -w 5 127.0.0.1 "$dead" hello
	assert_failure 1
	[[ $stderr == *"127.0.0.1:$dead: port unreachable (ICMP: Connection refused)"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	# Without -w nothing is waited for.
	run timeout "$T" "$SOCKCTL" udp-send 127.0.0.1 "$dead" hello
	assert_success
}

@test "a reply larger than the receive buffer is reported, not silently cut" {
	head -c 100 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
	start_bg srv "$SOCKCTL" serve -u --respond "@$BATS_TEST_TMPDIR/big" 0
	wait_ready srv || return 1
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --recv-buffer 10 -w 5 127.0.0.1 "$port" x
	assert_failure 1
	assert_output xxxxxxxxxx
	[[ $stderr == *"reply from 127.0.0.1:$port truncated: 10 bytes received of 100 (raise --recv-buffer)"* ]]
	run timeout "$T" "$SOCKCTL" udp-send -w 5 127.0.0.1 "$port" x
	assert_success
}

@test "Unix datagram sockets (-U) and IPv6" {
	echo_bg -U "$BATS_TEST_TMPDIR/dg.sock"
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send -w 5 -U "$BATS_TEST_TMPDIR/dg.sock" over-unix
	assert_success
	assert_output over-unix
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send -w 5 -U "$BATS_TEST_TMPDIR/nothing.sock" x
	assert_failure 1
	[[ $stderr == *"nothing.sock: No such file or directory"* ]]

	echo_bg -6 ::1 0
	run timeout "$T" "$SOCKCTL" udp-send -6 --from -w 5 ::1 "$port" v6
	assert_success
	assert_output "$(printf '[::1]:%s\tv6' "$port")"

}

# jv JSON EXPR: EXPR evaluated in Python with d the parsed JSON.
jv() {
	"$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

@test "--json: one object with the counts, round-trip times and every reply" {
	echo_bg 127.0.0.1 0
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --json -w 5 127.0.0.1 "$port" hello 'wörld'
	assert_success
	assert_equal "$stderr" ""
	# One line, one object, nothing else on stdout.
	[ "${#lines[@]}" -eq 1 ]
	assert_equal "$(jv "$output" 'd["destination"], d["protocol"], d["status"], d["error"]')" \
		"('127.0.0.1:$port', 'udp', 'ok', None)"
	assert_equal "$(jv "$output" 'd["sent"], d["received"], d["lost"], d["truncated"]')" "(2, 2, 0, 0)"
	assert_equal "$(jv "$output" 'd["rtt_ms"]["min"] <= d["rtt_ms"]["avg"] <= d["rtt_ms"]["max"]')" True
	assert_equal "$(jv "$output" 'type(d["seconds"]).__name__')" float
	# Each reply: its sender, size and data (bytes past ASCII as \u00XX,
	# one per byte: "ö" is two).
	assert_equal "$(jv "$output" 'ascii(sorted((r["from"], r["size"], r["truncated"], r["data"]) for r in d["replies"]))')" \
		"[('127.0.0.1:$port', 5, False, 'hello'), ('127.0.0.1:$port', 6, False, 'w\\xc3\\xb6rld')]"
	assert_equal "$(jv "$output" 'all(r["rtt_ms"] >= 0 for r in d["replies"])')" True
	[[ $output == *'"data":"w\u00c3\u00b6rld"'* ]]
	# Filler replies name the datagram they answer; --hex gives hex.
	run timeout "$T" "$SOCKCTL" udp-send --json --size 20 -c 3 -w 5 127.0.0.1 "$port"
	assert_success
	assert_equal "$(jv "$output" 'sorted(r["seq"] for r in d["replies"])')" "[0, 1, 2]"
	run timeout "$T" "$SOCKCTL" udp-send --json --hex -w 5 127.0.0.1 "$port" 'de ad 00 ef'
	assert_success
	assert_equal "$(jv "$output" '[r["hex"] for r in d["replies"]]')" "['dead00ef']"
	# Without -w nothing is waited for, so nothing is lost.
	run timeout "$T" "$SOCKCTL" udp-send --json 127.0.0.1 "$port" x
	assert_success
	assert_equal "$(jv "$output" 'd["sent"], d["lost"], d["replies"], d["rtt_ms"]')" "(1, None, [], None)"
}

@test "--json: timeouts, unreachable ports, truncation and failed opens are in the object too" {
	start_bg sink "$SOCKCTL" serve -u --discard 0
	wait_ready sink || return 1
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --json -w 0.3 127.0.0.1 "$port" a b
	assert_failure 1
	local msg="timeout: no reply from 127.0.0.1:$port within 0.3 s"
	assert_equal "$stderr" "sockctl: $msg"
	assert_equal "$(jv "$output" 'd["status"], d["error"], d["sent"], d["lost"]')" "('timeout', '$msg', 2, 2)"

	local dead
	dead=$(udp_free_port)
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --json -w 5 127.0.0.1 "$dead" hello
	assert_failure 1
	assert_equal "$(jv "$output" 'd["status"], d["error"]')" \
		"('unreachable', 'receive from 127.0.0.1:$dead: port unreachable (ICMP: Connection refused)')"

	head -c 100 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
	start_bg big "$SOCKCTL" serve -u --respond "@$BATS_TEST_TMPDIR/big" 0
	wait_ready big || return 1
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --json --recv-buffer 10 -w 5 127.0.0.1 "$port" x
	assert_failure 1
	assert_equal "$(jv "$output" 'd["status"], d["truncated"], d["received"]')" "('truncated', 1, 1)"
	assert_equal "$(jv "$output" '[(r["size"], r["truncated"], r["received_size"], r["data"]) for r in d["replies"]]')" \
		"[(100, True, 10, 'xxxxxxxxxx')]"

	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --json -w 5 -U "$BATS_TEST_TMPDIR/nothing.sock" x
	assert_failure 1
	assert_equal "$(jv "$output" 'd["destination"], d["status"], d["sent"], d["replies"]')" \
		"('$BATS_TEST_TMPDIR/nothing.sock', 'error', 0, [])"
	[[ $(jv "$output" 'd["error"]') == *"nothing.sock: No such file or directory" ]]
	# A usage error is only the message.
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --json --rate 0 127.0.0.1 "$port" x
	assert_failure 2
	assert_output ""
}

@test "multicast with --interface and --ttl; broadcast needs --broadcast" {
	peer_bg mc echo --group 239.255.77.1
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --interface 127.0.0.1 --ttl 1 --from -w 5 --replies 1 239.255.77.1 "$port" to-group
	assert_success
	assert_output "$(printf '127.0.0.1:%s\tto-group' "$port")"
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --interface no-such-if0 239.255.77.1 "$port" x
	assert_failure 1
	[[ $stderr == *"interface 'no-such-if0': No such device"* ]]

	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send 127.255.255.255 "$port" x
	assert_failure 1
	[[ $stderr == *"127.255.255.255:$port: Permission denied"* ]]
	start_bg bc "$SOCKCTL" serve -u --echo "*" 0
	wait_ready bc || return 1
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --broadcast --replies 1 --from 127.255.255.255 "$port" to-all
	assert_success
	assert_output "$(printf '127.0.0.1:%s\tto-all' "$port")"
}

@test "bad input: empty or odd hex, oversize payloads, bad rates and counts" {
	local port=9 e
	while IFS='|' read -r args e; do
		run --separate-stderr timeout "$T" "$SOCKCTL" udp-send $args
		[ "$status" -eq 2 ] || fail "udp-send $args: status $status ($stderr)"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "udp-send $args: $stderr"
		[[ $stderr == *"$e"* ]] || fail "udp-send $args: '$stderr' lacks '$e'"
	done <<-EOF
		--hex 127.0.0.1 9 abc|MESSAGE 1: odd number of hex digits
		--hex 127.0.0.1 9 ok 0g|MESSAGE 1: 'o' at offset 0 is not a hex digit
		--hex 127.0.0.1 9 00 zz|MESSAGE 2: 'z' at offset 0 is not a hex digit
		--size 65508 127.0.0.1 9|--size 65508 exceeds the largest udp datagram (65507 bytes)
		--size 70000 127.0.0.1 9|invalid --size '70000'
		--rate 0 127.0.0.1 9 x|invalid --rate '0'
		--rate -5 127.0.0.1 9 x|invalid --rate '-5'
		--rate fast 127.0.0.1 9 x|invalid --rate 'fast'
		--rate 1e12 127.0.0.1 9 x|invalid --rate '1e12'
		--interval 10 --rate 5 127.0.0.1 9 x|choose one
		--count 0 127.0.0.1 9 x|invalid --count '0'
		--ttl 256 127.0.0.1 9 x|invalid --ttl '256'
		--ttl 0 127.0.0.1 9 x|invalid --ttl '0' (use 1-255)
		--lines 127.0.0.1 9 x|cannot be combined with --lines
		--lines --count 3 127.0.0.1 9|--count cannot be combined with --lines
		--size 8 --hex 127.0.0.1 9|--hex does not apply
		127.0.0.1|missing HOST and PORT
		127.0.0.1 70000 x|invalid port '70000'
		-w soon 127.0.0.1 9 x|invalid --wait 'soon'
		--frob 127.0.0.1 9 x|unknown option '--frob'
	EOF
	# Empty hex from an argument and from stdin.
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --hex 127.0.0.1 9 ""
	assert_failure 2
	[[ $stderr == *"MESSAGE 1: empty hex payload"* ]]
	run --separate-stderr bash -c "printf ' \n' | timeout $T '$SOCKCTL' udp-send --hex 127.0.0.1 9"
	assert_failure 2
	assert_equal "$stderr" "sockctl: stdin: empty hex payload"
	# Oversize datagrams from arguments and from stdin are refused before sending.
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send 127.0.0.1 9 "$(head -c 65508 /dev/zero | tr '\0' a)"
	assert_failure 2
	[[ $stderr == *"MESSAGE 1 is 65508 bytes; the largest udp datagram over IPv4 is 65507"* ]]
	run --separate-stderr bash -c "head -c 70000 /dev/zero | timeout $T '$SOCKCTL' udp-send 127.0.0.1 9"
	assert_failure 2
	[[ $stderr == *"stdin holds more than 65507 bytes"*"use --lines"* ]]
	run --separate-stderr bash -c "printf 'ab\nabc\n' | timeout $T '$SOCKCTL' udp-send --hex --lines 127.0.0.1 9"
	assert_failure 2
	[[ $stderr == *"stdin line 2: odd number of hex digits"* ]]
}
