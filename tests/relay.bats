#!/usr/bin/env bats
# connect <-> serve relays: data integrity, half-close, EOF behaviours.
# sockctl: per-backend
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "echo round trip" {
	serve_bg srv --echo
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"hello, world"
	assert_success
	assert_output "hello, world"
	grep -q "(tcp, mux=${SOCKCTL_MUX:-epoll})" srv.err
}

@test "64 MiB (/SCALE) client to server, checksums match (zero-copy and copy paths)" {
	head -c $MIB64 /dev/urandom >in.bin
	for zc in "" --no-zero-copy; do
		serve_bg srv $zc 0
		timeout $T "$SOCKCTL" connect $zc 127.0.0.1 "$port" <in.bin
		wait_exit "$srv_pid"
		[ "$status" -eq 0 ]
		cmp in.bin srv.out
	done
}

@test "64 MiB (/SCALE) server to client through a pipe, checksums match" {
	head -c $MIB64 /dev/urandom >in.bin
	start_bg srv sh -c "cat in.bin | '$SOCKCTL' serve 0"
	wait_ready srv
	timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null | cat >got.bin
	cmp in.bin got.bin
}

@test "64 MiB (/SCALE) through the echo server both ways at once" {
	head -c $MIB64 /dev/urandom >in.bin
	serve_bg srv --echo
	timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <in.bin >got.bin
	cmp in.bin got.bin
}

@test "client half-close: FIN on stdin EOF, the reply still arrives" {
	mkfifo reply
	start_bg_stdin srv reply "$SOCKCTL" serve 0
	exec 7>reply
	wait_ready srv
	start_bg cli sh -c "printf request | timeout $T '$SOCKCTL' connect 127.0.0.1 $port"
	# The server sees the request and the client's FIN (its stdout ends)...
	wait_file_contains srv.out request
	# ...while the client still waits for the answer.
	kill -0 "$cli_pid"
	echo answer >&7
	exec 7>&-
	wait_exit "$cli_pid"
	[ "$status" -eq 0 ]
	[ "$(cat cli.out)" = answer ]
	wait_exit "$srv_pid"
	[ "$status" -eq 0 ]
}

@test "server half-close: the client keeps sending after the server's FIN" {
	serve_bg srv 0 </dev/null
	mkfifo input
	start_bg_stdin cli input timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	exec 7>input
	echo "after the server's FIN" >&7
	wait_file_contains srv.out "after the server's FIN"
	exec 7>&-
	wait_exit "$cli_pid"
	[ "$status" -eq 0 ]
	wait_exit "$srv_pid"
	[ "$status" -eq 0 ]
}

@test "--no-shutdown keeps the write side open until the peer closes" {
	serve_bg srv --echo
	# The echo server only closes on our FIN; with --no-shutdown the idle
	# timeout is what ends the client, so it fails with that message.
	run --separate-stderr timeout $T "$SOCKCTL" connect --no-shutdown -i 2 127.0.0.1 "$port" <<<ping
	assert_failure 1
	assert_output ping
	[[ $stderr == *"idle timeout"* ]]
}

@test "-q 0 quits right after stdin EOF even if the peer stays open" {
	mkfifo hold
	start_bg_stdin srv hold "$SOCKCTL" serve 0
	exec 7>hold
	wait_ready srv
	run timeout $T "$SOCKCTL" connect -q 0 127.0.0.1 "$port" <<<bye
	assert_success
	wait_file_contains srv.out bye
	exec 7>&-
}

@test "--send-only exits once stdin is sent; --recv-only ignores stdin" {
	serve_bg srv --echo
	run timeout $T "$SOCKCTL" connect --send-only 127.0.0.1 "$port" <<<"not printed"
	assert_success
	assert_output ""
	serve_bg srv2 --respond "greeting"
	run timeout $T "$SOCKCTL" connect --recv-only 127.0.0.1 "$port" <<<"never sent"
	assert_success
	assert_output greeting
}

@test "peer reset: connect fails with the reason, exit 1" {
	start_bg rst "$PY" -c '
import socket, struct, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print("sockctl: listening on 127.0.0.1:%d (tcp)" % s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept(); c.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()'
	wait_ready rst
	mkfifo in
	start_bg_stdin cli in timeout $T "$SOCKCTL" connect 127.0.0.1 "$port"
	exec 7>in
	echo trigger >&7
	wait_exit "$cli_pid"
	exec 7>&-
	[ "$status" -eq 1 ]
	grep -q "Connection reset by peer" cli.err
}

@test "-v reports the connection and the byte counts" {
	serve_bg srv --echo
	run --separate-stderr timeout $T "$SOCKCTL" connect -v 127.0.0.1 "$port" <<<"12345"
	assert_success
	[[ $stderr == *"connected to 127.0.0.1:$port from 127.0.0.1:"*"(tcp)"* ]]
	[[ $stderr == *"sent 6 bytes, received 6 bytes in "* ]]
}

@test "connect -w times out against a full backlog" {
	# A listener that never accepts, with its backlog filled, drops SYNs.
	start_bg full "$PY" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.2)
print("sockctl: listening on 127.0.0.1:%d (tcp)" % port, file=sys.stderr, flush=True)
time.sleep(60)'
	wait_ready full
	run --separate-stderr timeout $T "$SOCKCTL" connect -w 0.5 127.0.0.1 "$port" </dev/null
	assert_failure 1
	[[ $stderr == *"connect 127.0.0.1:$port: Connection timed out"* ]]
}

@test "a forwarder made of serve --sh-exec and connect answers curl, which does not half-close" {
	# The inner connect's stdin and stdout are the accepted socket, blocking
	# as the program inherits it: it must never splice from it (that waits
	# inside the kernel, and curl keeps its side open for the answer).
	mkdir site
	printf 'hello through the forwarder\n' >site/a.txt
	start_bg web "$SOCKCTL" http serve -d site 127.0.0.1 0
	wait_ready web
	local web_port=$port
	serve_bg fwd -k --sh-exec "exec '$SOCKCTL' connect 127.0.0.1 $web_port" 127.0.0.1 0
	local i
	for i in 1 2 3; do
		run timeout 5 curl -sS "http://127.0.0.1:$port/a.txt"
		assert_success
		assert_output "hello through the forwarder"
	done
}
