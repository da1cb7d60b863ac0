#!/usr/bin/env bats
# serve: handlers, many clients, UDP and Unix servers.
# sockctl: per-backend
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	CLIENTS="$PY $BATS_TEST_DIRNAME/clients.py"
}

@test "--upper upper-cases ASCII and leaves UTF-8 intact" {
	serve_bg srv --upper
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"héllo wörld"
	assert_success
	assert_output "HéLLO WöRLD"
}

@test "--discard reads everything and sends nothing" {
	serve_bg srv --discard -k
	head -c 1000000 /dev/zero >zeros
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <zeros
	assert_success
	assert_output ""
}

@test "--respond TEXT and @FILE: sent whole, then closed" {
	serve_bg srv -k --respond "hello there"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_success
	assert_output "hello there"
	head -c 300000 /dev/urandom >body
	serve_bg srv2 -k --respond @body
	# The client sends a request too: the response must survive it.
	timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"GET / HTTP/1.0" >got
	cmp body got
}

@test "--respond @FILE that does not exist: one line, exit 1" {
	run --separate-stderr "$SOCKCTL" serve --respond @nonexistent 0
	assert_failure 1
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"nonexistent: No such file or directory"* ]]
}

@test "without -k: one client, then exit 0" {
	serve_bg srv --echo
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<one
	assert_output one
	wait_exit "$srv_pid"
	[ "$status" -eq 0 ]
}

@test "-k: 1000 sequential clients" {
	serve_bg srv --echo -k
	run timeout 60 $CLIENTS seq 1000 127.0.0.1 "$port"
	assert_success
	assert_output "ok 1000"
}

@test "-k: 200 concurrent clients" {
	serve_bg srv --upper -k
	run timeout 60 $CLIENTS conc 200 127.0.0.1 "$port"
	assert_success
	assert_output "ok 200"
}

@test "-k survives a client that resets, and serves the next one" {
	serve_bg srv --echo -k
	run timeout $T $CLIENTS reset 1 127.0.0.1 "$port"
	assert_success
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<still-here
	assert_output still-here
	kill -0 "$srv_pid"
}

@test "-k relay: stdin goes to every client, every client's data to stdout" {
	mkfifo in
	start_bg_stdin srv in "$SOCKCTL" serve -k 0
	exec 7>in
	wait_ready srv
	mkfifo c1in c2in
	start_bg_stdin c1 c1in timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	start_bg_stdin c2 c2in timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	exec 8>c1in 9>c2in
	echo from-one >&8
	echo from-two >&9
	wait_file_contains srv.out from-one
	wait_file_contains srv.out from-two
	echo broadcast >&7
	wait_file_contains c1.out broadcast
	wait_file_contains c2.out broadcast
	# Server stdin EOF: every client gets FIN and, once it is done, exits.
	exec 7>&- 8>&- 9>&-
	wait_exit "$c1_pid"
	[ "$status" -eq 0 ]
	wait_exit "$c2_pid"
	[ "$status" -eq 0 ]
}

# pipe_bytes FD: how many bytes wait in the pipe open on FD.
pipe_bytes() {
	"$PY" -c 'import fcntl, struct, sys, termios
print(struct.unpack("i", fcntl.ioctl(int(sys.argv[1]), termios.FIONREAD, b"\0" * 4))[0])' "$1"
}

@test "-k relay: a stdout nobody reads holds back the clients' data, not the serving" {
	local d=$BATS_TEST_TMPDIR
	mkfifo in out
	# Both opened here first, read-write: nothing waits for the other end.
	exec 7<>in 8<>out
	start_bg srv bash -c "exec '$SOCKCTL' serve -v -k 127.0.0.1 0 <'$d/in' >'$d/out'"
	wait_ready srv
	head -c $((4 * 1024 * 1024 / SCALE)) /dev/urandom >blob
	start_bg_stdin c1 blob timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	# The pipe to stdout fills up and stays full. (Full is not always
	# 64 KiB: spliced socket data can fill the pipe's 16 slots with
	# partial pages; what counts is that it stops growing.)
	local i n=0 last=-1
	for ((i = 0; i < 100; i++)); do
		n=$(pipe_bytes 8)
		((n > 0 && n == last)) && break
		last=$n
		sleep 0.2
	done
	((n > 0 && n == last))
	# A new client is served all the same, and gets stdin.
	mkfifo c2in
	start_bg_stdin c2 c2in timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	exec 9>c2in
	for ((i = 0; i < 1000; i++)); do
		(($(grep -c "connection from" srv.err) == 2)) && break
		sleep 0.01
	done
	echo broadcast >&7
	wait_file_contains c2.out broadcast
	# Nothing of the first client was lost meanwhile.
	timeout $T head -c "$(stat -c %s blob)" <&8 >got
	cmp blob got
	exec 7>&- 8>&- 9>&-
	wait_exit "$c1_pid"
	[ "$status" -eq 0 ]
	wait_exit "$c2_pid"
	[ "$status" -eq 0 ]
}

@test "-i closes idle connections" {
	serve_bg srv --echo -k -v -i 0.3
	mkfifo in
	start_bg_stdin cli in timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	exec 7>in
	echo ping >&7
	wait_file_contains cli.out ping
	wait_file_contains srv.err "idle for 300 ms, closing"
	# The client still has input open; closing it ends the client cleanly.
	exec 7>&-
	wait_exit "$cli_pid"
	[ "$status" -eq 0 ]
}

@test "without -k, -i is the relay's: a client sending now and then stays, an idle one goes" {
	start_bg_stdin srv /dev/null "$SOCKCTL" serve -v -i 1 127.0.0.1 0
	wait_ready srv
	mkfifo in
	start_bg_stdin cli in timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	exec 7>in
	# Data every 0.3 s for longer than -i: the connection is not idle.
	local i
	for i in 1 2 3 4 5 6 7 8; do
		echo "tick$i" >&7
		sleep 0.3
	done
	wait_file_contains srv.out tick8
	# Then nothing: the relay's idle timeout ends the run (exit 1).
	wait_exit "$srv_pid"
	[ "$status" -eq 1 ]
	grep -q "idle timeout: no data for 1 s" srv.err
	! grep -q "idle for" srv.err
	grep -q "served 1 connections, refused 0; received 48 bytes, sent 0 bytes" srv.err
	exec 7>&-
}

@test "UDP: every sender gets its own echo" {
	serve_bg srv -u --echo
	grep -q "(udp, mux=" srv.err
	run timeout $T $CLIENTS udp 5 127.0.0.1 "$port"
	assert_success
	assert_output "ok 5"
}

@test "UDP client: one datagram per read, replies printed, exits after the wait" {
	serve_bg srv -u --upper
	run timeout $T "$SOCKCTL" connect -u -i 0.3 127.0.0.1 "$port" <<<"datagram"
	assert_success
	assert_output DATAGRAM
}

@test "UDP client: refused port is an error, exit 1" {
	p=$(free_port)
	run --separate-stderr timeout $T "$SOCKCTL" connect -u 127.0.0.1 "$p" <<<"x"
	assert_failure 1
	[[ $stderr == *"port unreachable"* ]]
}

@test "UDP relay: datagrams to stdout, stdin back to the senders" {
	mkfifo in
	start_bg_stdin srv in "$SOCKCTL" serve -u 0
	exec 7>in
	wait_ready srv
	mkfifo cin
	start_bg_stdin cli cin timeout $T "$SOCKCTL" connect -u -i 5 127.0.0.1 "$port"
	exec 8>cin
	echo hello-server >&8
	wait_file_contains srv.out hello-server
	echo hello-client >&7
	wait_file_contains cli.out hello-client
	exec 7>&- 8>&-
}

@test "UDP relay: a stdout nobody reads holds back the datagrams, not stdin's replies" {
	local d=$BATS_TEST_TMPDIR
	mkfifo in out
	exec 7<>in 8<>out
	start_bg srv bash -c "exec '$SOCKCTL' serve -u 127.0.0.1 0 <'$d/in' >'$d/out'"
	wait_ready srv
	# More than the pipe and the server's queue hold; the sender then
	# waits for an answer.
	start_bg cli timeout $T "$SOCKCTL" udp-send --size 8000 -c 60 -w 10 --replies 1 \
		127.0.0.1 "$port"
	local i
	for ((i = 0; i < 1000; i++)); do
		(($(pipe_bytes 8) >= 60000)) && break
		sleep 0.01
	done
	# (8000-byte writes fill its pages up to 64000.)
	(($(pipe_bytes 8) >= 60000))
	echo answer >&7
	wait_exit "$cli_pid"
	[ "$status" -eq 0 ]
	grep -q answer cli.out
	exec 7>&- 8>&-
}

@test "Unix stream: path socket, removed at exit; abstract names" {
	serve_bg srv --echo -k -U "$BATS_TEST_TMPDIR/s.sock"
	grep -q "listening on $BATS_TEST_TMPDIR/s.sock (unix, mux=" srv.err
	run timeout $T "$SOCKCTL" connect -U "$BATS_TEST_TMPDIR/s.sock" <<<unix-stream
	assert_output unix-stream
	kill "$srv_pid"
	wait_exit "$srv_pid"
	[ ! -e "$BATS_TEST_TMPDIR/s.sock" ]
	name="@sockctl-test-$$-$RANDOM"
	serve_bg srv2 --upper -k -U "$name"
	run timeout $T "$SOCKCTL" connect -U "$name" <<<abstract
	assert_output ABSTRACT
}

@test "Unix datagram: replies reach the client" {
	serve_bg srv -u --echo -U "$BATS_TEST_TMPDIR/d.sock"
	grep -q "(unixgram, mux=" srv.err
	run timeout $T "$SOCKCTL" connect -u -i 0.3 -U "$BATS_TEST_TMPDIR/d.sock" <<<unix-dgram
	assert_success
	assert_output unix-dgram
}

@test "a stale Unix socket file is replaced; a live one is not" {
	serve_bg srv --echo -k -U "$BATS_TEST_TMPDIR/live.sock"
	run --separate-stderr "$SOCKCTL" serve -U "$BATS_TEST_TMPDIR/live.sock"
	assert_failure 1
	[[ $stderr == *"Address already in use"* ]]
	"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$BATS_TEST_TMPDIR/stale.sock"
	serve_bg srv2 --echo -U "$BATS_TEST_TMPDIR/stale.sock"
	run timeout $T "$SOCKCTL" connect -U "$BATS_TEST_TMPDIR/stale.sock" <<<fresh
	assert_output fresh
}

@test "IPv6 loopback with -6" {
	"$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1",0))' 2>/dev/null || skip "no IPv6 loopback here"
	serve_bg srv -6 --echo
	grep -q 'listening on \[::1\]:' srv.err
	run timeout $T "$SOCKCTL" connect ::1 "$port" <<<v6
	assert_output v6
}

# gone PID: waits (at most 5 s) for PID to end; fails if it does not.
gone() {
	local i
	for ((i = 0; i < 500; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.01
	done
	echo "process $1 still runs" >&2
	return 1
}

# lines_in N PREFIX: waits until the files PREFIX* (there as they come)
# hold N lines in all.
lines_in() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[[ $(cat "$2"* 2>/dev/null | wc -l) == "$1" ]] && return 0
		sleep 0.01
	done
	echo "never $1 lines in $2*" >&2
	return 1
}

# udp_port: a UDP port free now on 127.0.0.1.
udp_port() {
	"$PY" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "serve -u --sh-exec: a program per datagram, the datagram on its stdin, its output back" {
	serve_bg srv -v -u --sh-exec 'echo "$SOCKCTL_PROTO $SOCKCTL_REMOTE_ADDR:$SOCKCTL_REMOTE_PORT $SOCKCTL_LOCAL_ADDR:$SOCKCTL_LOCAL_PORT $(tr a-z A-Z)"' 127.0.0.1 0
	local sp
	sp=$(udp_port)
	run timeout $T "$SOCKCTL" udp-send -p "$sp" -w 5 --replies 1 127.0.0.1 "$port" hello
	assert_success
	assert_output "udp 127.0.0.1:$sp 127.0.0.1:$port HELLO"
	# Several datagrams, a program each, each answer to its sender.
	run timeout $T "$SOCKCTL" udp-send -w 5 --replies 3 127.0.0.1 "$port" a b c
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | sed 's/.* //' | sort | tr '\n' ' ')" "A B C "
	# socat as the client, and a datagram with no newline.
	run timeout $T socat -t 5 - "UDP:127.0.0.1:$port" < <(printf 'no newline')
	assert_success
	assert_output --regexp "^udp 127\.0\.0\.1:[0-9]+ 127\.0\.0\.1:$port NO NEWLINE$"
	wait_file_contains srv.err "program started for the datagram from 127.0.0.1:$sp (pid "
	wait_file_contains srv.err "exited with status 0"
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
	grep -q "served 5 datagrams, dropped 0; received 18 bytes, sent " srv.err
}

@test "serve -u --exec: many senders at once; each read of the output is one datagram, as in socat" {
	serve_bg srv -u --exec 'tr a-z A-Z'
	run timeout $T $CLIENTS udp 20 127.0.0.1 "$port"
	assert_success
	assert_output "ok 20"
	# -m 2: the others wait their turn in the socket's buffer.
	serve_bg two -u -m 2 --sh-exec 'sleep 0.1; tr a-z A-Z'
	run timeout $T $CLIENTS udp 12 127.0.0.1 "$port"
	assert_success
	assert_output "ok 12"
	# Two writes a moment apart are two datagrams; socat does the same.
	serve_bg parts -u --sh-exec 'cat >/dev/null; printf one; sleep 0.3; printf two'
	run timeout $T "$SOCKCTL" udp-send -w 5 --replies 2 127.0.0.1 "$port" x
	assert_success
	assert_output "$(printf 'one\ntwo')"
	local sp
	sp=$(udp_port)
	start_bg socat socat "UDP-RECVFROM:$sp,bind=127.0.0.1,fork" SYSTEM:'cat >/dev/null; printf one; sleep 0.3; printf two'
	for _ in $(seq 1000); do
		[[ -n $(ss -Huln "sport = :$sp") ]] && break
		sleep 0.01
	done
	run timeout $T "$SOCKCTL" udp-send -w 5 --replies 2 127.0.0.1 "$sp" x
	assert_success
	assert_output "$(printf 'one\ntwo')"
	# A Unix datagram socket.
	serve_bg unix -u --sh-exec 'echo "$SOCKCTL_PROTO $(cat)"' -U "$BATS_TEST_TMPDIR/dg.sock"
	run timeout $T "$SOCKCTL" udp-send -w 5 --replies 1 -U "$BATS_TEST_TMPDIR/dg.sock" over-unix
	assert_success
	assert_output "unixgram over-unix"
}

@test "serve -u --exec: -i stops a program and what it started, -m bounds them, stopping ends them" {
	local d=$BATS_TEST_TMPDIR
	# A slow datagram starts a child that outlives the time limit unless
	# its whole process group is stopped.
	serve_bg srv -v -u -i 0.5 -m 2 --sh-exec "read -r x; if [ \"\$x\" = slow ]; then sleep 30 & echo \$! >'$d/gc.'\$\$; wait; fi; echo \"got \$x\""
	run timeout $T "$SOCKCTL" udp-send 127.0.0.1 "$port" slow slow
	assert_success
	lines_in 2 "$d/gc."
	# Both slots are taken: this one waits until they are stopped.
	run timeout $T "$SOCKCTL" udp-send -w 5 --replies 1 127.0.0.1 "$port" fast
	assert_success
	assert_output "got fast"
	grep -q "2 programs running (-m): datagrams wait" srv.err
	assert_equal "$(grep -c 'still running after its time (-i), stopping it' srv.err)" 2
	local gc
	for gc in $(cat "$d"/gc.*); do
		gone "$gc"
	done
	# Stopping the server stops the programs still running.
	rm -f "$d"/gc.*
	serve_bg long -u --sh-exec "sleep 30 & echo \$! >'$d/gc.long'; wait"
	run timeout $T "$SOCKCTL" udp-send 127.0.0.1 "$port" x
	lines_in 1 "$d/gc.long"
	kill -TERM "$long_pid"
	wait_exit "$long_pid"
	assert_equal "$status" 0
	gone "$(cat "$d/gc.long")"
}

@test "serve -u --exec: a program that cannot start is reported per datagram; bad combinations" {
	serve_bg srv -u --exec /nonexistent/prog
	run timeout $T "$SOCKCTL" udp-send -w 0.3 127.0.0.1 "$port" x
	assert_failure 1
	wait_file_contains srv.err "sockctl: exec /nonexistent/prog: No such file or directory"
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid"
	assert_equal "$status" 1
	run "$SOCKCTL" serve -u -m 2 --echo 0
	assert_failure 2
	assert_output --partial "with -u, -m limits the --exec programs"
	run "$SOCKCTL" serve -u --model fork --exec cat 0
	assert_failure 2
}
