#!/usr/bin/env bats
# sockctl forward's faults, each measured through the real binary: delays
# as round trips, a rate cap as bytes over time, cuts and resets as the
# client sees them, refuse, blackhole, timeout-after, down/up and down
# hold on open connections through --control, bad values and bad lines.
# The tolerances are a loaded machine's; bench/forward_faults.sh has the
# tight figures.
# sockctl: per-backend
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	exec 7>&- 2>/dev/null || true
	teardown_common
}

forward_bg() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" forward "$@"
	wait_ready "$name"
}

echo_target() {
	serve_bg tgt -k --echo
	TPORT=$port
}

# A target that sends N bytes to each client, then closes.
bulk_target() {
	serve_bg tgt -k --sh-exec "head -c $1 /dev/zero"
	TPORT=$port
}

fc() {
	timeout $T "$PY" "$BATS_TEST_DIRNAME/fault_client.py" "$@"
}

# ctl LINE...: the lines to the control socket, the answers in $output.
ctl() {
	run timeout $T "$SOCKCTL" connect -U ctl.sock < <(printf '%s\n' "$@")
}

# Every number of "rtt A B C" is within [LO, HI) ms.
rtts_within() {
	local lo=$1 hi=$2 v
	[[ $output == rtt\ * ]] || { echo "no round trips: $output" >&2; return 1; }
	for v in ${output#rtt }; do
		awk -v v="$v" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(v >= lo && v < hi) }' ||
			{ echo "round trip $v ms not in [$lo, $hi): $output" >&2; return 1; }
	done
}

# script_client: the scripted client (fault_client.py script) on
# forward's $port, its commands through fd 7, its answers in cl.out.
script_client() {
	rm -f cmds
	mkfifo cmds
	start_bg_stdin cl cmds "$PY" "$BATS_TEST_DIRNAME/fault_client.py" script 127.0.0.1 "$port"
	exec 7>cmds
}

# say LINE [EXPECT]: a command to the scripted client, and the answer
# line it must print next.
nsaid=0
say() {
	echo "$1" >&7
	[[ $# -lt 2 ]] && return 0
	nsaid=$((nsaid + 1))
	local i
	for ((i = 0; i < 2000; i++)); do
		(($(wc -l <cl.out) >= nsaid)) && break
		sleep 0.01
	done
	run sed -n "${nsaid}p" cl.out
	assert_output "$2"
}

@test "forward --delay-up 200: each round trip takes 200 ms more" {
	echo_target
	forward_bg fwd --delay-up 200 0 127.0.0.1 "$TPORT"
	run fc rtt 127.0.0.1 "$port" 3
	assert_success
	rtts_within 198 600
}

@test "forward --delay 100: both ways, 200 ms a round trip" {
	echo_target
	forward_bg fwd --delay 100 0 127.0.0.1 "$TPORT"
	run fc rtt 127.0.0.1 "$port" 3
	assert_success
	rtts_within 198 600
}

@test "forward --delay-down 100:30: jitter within its bounds, every byte in order" {
	echo_target
	forward_bg fwd --delay-down 100:30 --seed 7 0 127.0.0.1 "$TPORT"
	run fc rtt 127.0.0.1 "$port" 4
	assert_success
	rtts_within 68 500
	head -c 300000 /dev/urandom >data
	timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <data >back
	cmp data back
}

@test "forward --rate 256K: an echoed transfer runs at 256 KiB/s within 10%" {
	echo_target
	forward_bg fwd --rate 256K 0 127.0.0.1 "$TPORT"
	run fc rate 127.0.0.1 "$port" 524288
	assert_success
	awk -v r="$(echo "$output" | cut -d' ' -f2)" 'BEGIN { exit !(r > 0.9 * 262144 && r < 1.1 * 262144) }' ||
		{ echo "measured: $output" >&2; false; }
}

@test "forward --chunk-down 100 --chunk-delay-down 50: the client reads 100-byte pieces, 50 ms apart" {
	# 50 ms apart, so that a reader slowed by a loaded machine still
	# reads each piece alone.
	serve_bg tgt -k --sh-exec 'head -c 1000 /dev/zero'
	forward_bg fwd --chunk-down 100 --chunk-delay-down 50 0 127.0.0.1 "$port"
	run timeout $T "$PY" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sizes = []
t = time.monotonic()
while True:
    b = s.recv(65536)
    if not b: break
    sizes.append(len(b))
print(len(sizes), max(sizes), sum(sizes), int((time.monotonic() - t) * 1000))
' "$port"
	assert_success
	read -r n most total ms <<<"$output"
	[ "$total" = 1000 ] && [ "$most" -le 100 ] && [ "$n" -ge 10 ] && [ "$ms" -ge 445 ] ||
		{ echo "reads: $output" >&2; false; }
}

@test "forward --close-after 1000: the client sees the end after exactly 1000 bytes" {
	bulk_target 100000
	forward_bg fwd -v --close-after 1000 0 127.0.0.1 "$TPORT"
	run fc read 127.0.0.1 "$port" ""
	assert_output "eof 1000"
	wait_file_contains fwd.err "close-after 1000 bytes"
}

@test "forward --reset-after 1000: the client sees a reset after 1000 bytes" {
	bulk_target 100000
	forward_bg fwd -v --reset-after 1000 0 127.0.0.1 "$TPORT"
	run fc read 127.0.0.1 "$port" ""
	assert_output "reset 1000"
	wait_file_contains fwd.err "reset-after 1000 bytes"
	# And as sockctl connect says it.
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_failure 1
	assert_output --partial "Connection reset by peer"
}

@test "forward --reset-after 300ms: a reset in time, not at once" {
	echo_target
	forward_bg fwd --reset-after 300ms 0 127.0.0.1 "$TPORT"
	local t0=$(date +%s%N)
	run fc read 127.0.0.1 "$port" "hello" 5
	local ms=$((($(date +%s%N) - t0) / 1000000))
	assert_output "reset 5"
	[ "$ms" -ge 290 ] || { echo "reset after $ms ms" >&2; false; }
}

@test "forward --refuse: every client accepted and reset, the target never reached" {
	serve_bg tgt -k -v --echo
	TPORT=$port
	forward_bg fwd --refuse 0 127.0.0.1 "$TPORT"
	run fc read 127.0.0.1 "$port" "hello" 5
	assert_output "reset 0"
	run fc read 127.0.0.1 "$port" "" 5
	assert_output "reset 0"
	run grep -c "connection from" tgt.err
	assert_output 0
}

@test "forward --blackhole: read and never answered; the client's end still ends it" {
	echo_target
	forward_bg fwd --blackhole --control ctl.sock 0 127.0.0.1 "$TPORT"
	run fc read 127.0.0.1 "$port" "hello" 0.5
	assert_output "timeout 0"
	ctl stats
	assert_success
	assert_output --partial '"bytes_up":0,"bytes_down":0'
	# The client gone, the connection goes too.
	for ((i = 0; i < 500; i++)); do
		ctl stats
		[[ $output == *'"active":0'* ]] && break
		sleep 0.01
	done
	assert_output --partial '"connections":1,"active":0'
	# The target is never reached: one that refuses cannot answer the
	# client with a reset either.
	local closed
	closed=$(free_port)
	forward_bg hole --blackhole 0 127.0.0.1 "$closed"
	run fc read 127.0.0.1 "$port" "hello" 0.5
	assert_output "timeout 0"
}

@test "forward --timeout-after 300ms: bytes stop, the connection stays open" {
	echo_target
	forward_bg fwd --timeout-after 300ms --control ctl.sock 0 127.0.0.1 "$TPORT"
	script_client
	say "send early"
	say "expect early 5" "got early"
	sleep 0.4 # the timeout itself is what is tested
	say "send late"
	say "expect late 0.5" "none"
	ctl stats
	assert_output --partial '"timed_out":1'
	assert_output --partial '"active":1'
}

@test "forward --control: down resets open connections and refuses new ones; up forwards again" {
	echo_target
	forward_bg fwd -v --control ctl.sock 0 127.0.0.1 "$TPORT"
	script_client
	say "send one"
	say "expect one 5" "got one"
	ctl down
	assert_success
	assert_output "ok down"
	say "expect two 5" "reset"
	run fc read 127.0.0.1 "$port" "x" 5
	assert_output "reset 0"
	ctl up
	assert_output "ok up"
	run fc rtt 127.0.0.1 "$port" 1
	assert_success
	ctl stats
	assert_output --partial '"reset":1'
	assert_output --partial '"refused":1'
	wait_file_contains fwd.err ": down"
}

@test "forward --control: down hold freezes open connections until up" {
	echo_target
	forward_bg fwd --control ctl.sock 0 127.0.0.1 "$TPORT"
	script_client
	say "send one"
	say "expect one 5" "got one"
	ctl "down hold"
	assert_output "ok down hold"
	say "send two"
	say "expect two 0.5" "none"
	# New clients are refused meanwhile.
	run fc read 127.0.0.1 "$port" "x" 5
	assert_output "reset 0"
	ctl up
	say "expect two 5" "got two"
	ctl stats
	assert_output --partial '"held":1'
}

@test "forward --control: settings change on open connections" {
	echo_target
	forward_bg fwd --control ctl.sock 0 127.0.0.1 "$TPORT"
	script_client
	say "send a"
	say "expect a 5" "got a"
	ctl "set delay-up 300"
	assert_output "ok delay-up 300"
	local t0=$(date +%s%N)
	say "send b"
	say "expect b 5" "got b"
	local ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -ge 290 ] || { echo "took $ms ms" >&2; false; }
	ctl "clear delay-up" show
	assert_line "ok cleared delay-up"
	assert_line --partial '"delay_up_ms":0'
}

@test "forward --control: bad lines get one error line each, the forwarder runs on, several controllers at once" {
	echo_target
	forward_bg fwd --control ctl.sock 0 127.0.0.1 "$TPORT"
	# A second controller stays connected meanwhile.
	rm -f c2
	mkfifo c2
	start_bg_stdin ctl2 c2 "$SOCKCTL" connect -U ctl.sock
	exec 7>c2
	ctl "frobnicate" "set delay -5" "set nosuch 1" "set delay 5 6" "down now" "set loss 200" \
		"set rate 99999999999999999999" "" "set refuse maybe" "show"
	assert_success
	[ "${#lines[@]}" = 9 ] || { echo "answers: $output" >&2; false; }
	for ((i = 0; i < 8; i++)); do
		[[ ${lines[i]} == "error: "* ]] || { echo "line $i: ${lines[i]}" >&2; false; }
	done
	assert_line --index 0 "error: unknown command 'frobnicate' (try help)"
	assert_line --index 1 --partial "error: delay -5: want MS[:JITTER]"
	assert_line --index 2 "error: unknown fault 'nosuch'"
	assert_line --index 8 --partial '"delay_up_ms":0'
	echo "set delay 50" >&7
	wait_file_contains ctl2.out "ok delay 50"
	ctl show
	assert_output --partial '"delay_up_ms":50,'
	head -c 700 /dev/zero | tr '\0' a >long
	run timeout $T "$SOCKCTL" connect -U ctl.sock <long
	assert_output "error: a line longer than 511 bytes"
	run fc rtt 127.0.0.1 "$port" 1
	assert_success
	kill -0 "$fwd_pid"
}

udp_fc() {
	timeout $T "$PY" "$BATS_TEST_DIRNAME/udp_fault_client.py" "$@"
}

@test "forward -u --loss 30 --seed 7: loss each way within a binomial bound, the same datagrams with the same seed" {
	serve_bg tgt -u --echo 127.0.0.1 0
	TPORT=$port
	forward_bg fwd -u --loss 30 --seed 7 0 127.0.0.1 "$TPORT"
	run udp_fc "$port" count 400
	assert_success
	local first=$output n
	n=$(wc -w <<<"$output")
	# Up and down each keep 70%: 0.49 of 400 = 196, sd 10: 5 sd each side.
	((n >= 146 && n <= 246)) || fail "$n of 400 came back"
	forward_bg fwd2 -u --loss 30 --seed 7 0 127.0.0.1 "$TPORT"
	run udp_fc "$port" count 400
	[ "$output" = "$first" ] || fail "seed 7 twice, different datagrams: $output"
}

@test "forward -u --delay 100 and --duplicate 100: round trips 200 ms longer, every datagram twice each way" {
	serve_bg tgt -u --echo 127.0.0.1 0
	TPORT=$port
	forward_bg fwd -u --delay 100 0 127.0.0.1 "$TPORT"
	run udp_fc "$port" rtt 5
	assert_success
	rtts_within 190 1500
	forward_bg dup -u --duplicate 100 0 127.0.0.1 "$TPORT"
	run udp_fc "$port" count 20
	# Every datagram twice to the echo, each of its echoes twice back: 80.
	[ "$(wc -w <<<"$output")" -eq 80 ] || fail "replies: $output"
}

@test "forward -u --control: down drops the datagrams, up passes them again; stream-only faults refused" {
	serve_bg tgt -u --echo 127.0.0.1 0
	TPORT=$port
	forward_bg fwd -u --control ctl.sock 0 127.0.0.1 "$TPORT"
	# Through while up: done once the 10 are back.
	run udp_fc "$port" count 10 10
	[ "$(wc -w <<<"$output")" -eq 10 ]
	ctl down
	assert_output --partial "ok"
	run udp_fc "$port" count 10
	[ -z "$output" ] || fail "through while down: $output"
	ctl up
	run udp_fc "$port" count 10 10
	[ "$(wc -w <<<"$output")" -eq 10 ]
	local bad
	for bad in "--rate 1K" "--chunk 10" "--reset-after 5" "--refuse" "--blackhole" "--timeout-after 1s"; do
		run -2 timeout $T "$SOCKCTL" forward -u $bad 0 127.0.0.1 9
		assert_output --partial "is for stream connections, not UDP"
	done
	# The one named is the stream-only one, not the first given.
	run -2 timeout $T "$SOCKCTL" forward -u --delay 10 --rate 1K 0 127.0.0.1 9
	assert_output --partial "--rate is for stream connections"
}

@test "forward --delay-down: stopped while a reply is held, it exits cleanly (nothing left behind)" {
	echo_target
	forward_bg fwd --delay-down 3000 --control ctl.sock 0 127.0.0.1 "$TPORT"
	# The echo comes back and waits 3 s inside, the client still there:
	# stopping then ends the connection with the reply queued to drain.
	start_bg cl "$PY" "$BATS_TEST_DIRNAME/fault_client.py" read 127.0.0.1 "$port" "held" 10
	local i
	for ((i = 0; i < 500; i++)); do
		ctl stats
		[[ $output == *'"bytes_down":4'* ]] && break
		sleep 0.01
	done
	assert_output --partial '"bytes_down":4'
	kill -TERM "$fwd_pid"
	wait_exit "$fwd_pid"
	[ "$status" -eq 0 ]
}

@test "forward: bad fault values are usage errors, one line each" {
	local bad
	for bad in "--delay -5" "--delay 100:-3" "--rate -1" "--rate 99999999999999999999" \
		"--chunk 5G" "--close-after 0" "--reset-after -1s" "--timeout-after 0" \
		"--delay 99999999999" "--chunk-delay 1e3" "--delay-up abc"; do
		run -2 timeout $T "$SOCKCTL" forward $bad 0 127.0.0.1 9
		[ "${#lines[@]}" = 1 ] || { echo "$bad: $output" >&2; false; }
		assert_output --regexp "^sockctl forward: --"
		assert_output --partial "(see 'sockctl forward --help')"
	done
	run -2 timeout $T "$SOCKCTL" forward --loss 5 0 127.0.0.1 9
	assert_output --partial "for UDP"
	run -2 timeout $T "$SOCKCTL" forward --seed 5 0 127.0.0.1 9
	assert_output --partial "--seed is for"
	run -2 timeout $T "$SOCKCTL" forward --control x.sock --workers 2 0 127.0.0.1 9
	assert_output --partial "not with --workers"
}

@test "forward --control: a path that cannot be listened on fails at start" {
	run -1 timeout $T "$SOCKCTL" forward --control /nonexistent/dir/ctl.sock 0 127.0.0.1 9
	assert_output --partial "sockctl: --control"
	refute_output --partial "listening on"
}

@test "forward --control: the socket file is removed at exit" {
	echo_target
	forward_bg fwd --control ctl.sock 0 127.0.0.1 "$TPORT"
	[ -S ctl.sock ]
	kill "$fwd_pid"
	wait_exit "$fwd_pid"
	[ "$status" = 0 ]
	[ ! -e ctl.sock ]
}
