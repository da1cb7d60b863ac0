#!/usr/bin/env bats
# Interoperability with the peers users already have: nc, ncat, socat.
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	PORT=$(free_port)
}

@test "sockctl connect -> OpenBSD nc -l" {
	start_bg peer timeout $T nc -N -l 127.0.0.1 "$PORT"
	wait_listen "$PORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$PORT" <<<"to nc"
	assert_success
	wait_exit "$peer_pid"
	[ "$(cat peer.out)" = "to nc" ]
}

@test "sockctl connect <-> ncat -l, each direction" {
	start_bg peer timeout $T ncat -l --recv-only 127.0.0.1 "$PORT"
	wait_listen "$PORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$PORT" <<<"to ncat"
	assert_success
	wait_exit "$peer_pid"
	[ "$(cat peer.out)" = "to ncat" ]
	echo "from ncat" >greeting
	start_bg_stdin peer2 greeting timeout $T ncat -l --send-only 127.0.0.1 "$PORT"
	wait_listen "$PORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$PORT" </dev/null
	assert_success
	assert_output "from ncat"
}

@test "sockctl connect -> socat echo server, 8 MiB intact" {
	head -c $((8 * 1024 * 1024)) /dev/urandom >in.bin
	start_bg peer socat "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr" EXEC:cat
	wait_listen "$PORT"
	timeout $T "$SOCKCTL" connect 127.0.0.1 "$PORT" <in.bin >got.bin
	cmp in.bin got.bin
}

@test "nc, ncat and socat clients -> sockctl serve --echo -k" {
	serve_bg srv --echo -k
	run timeout $T nc -N 127.0.0.1 "$port" <<<"from nc"
	assert_output "from nc"
	run timeout $T ncat 127.0.0.1 "$port" <<<"from ncat"
	assert_output "from ncat"
	run timeout $T socat -t 5 - "TCP:127.0.0.1:$port" <<<"from socat"
	assert_output "from socat"
}

@test "nc -u and socat UDP clients -> sockctl serve -u --upper" {
	serve_bg srv -u --upper
	run timeout $T socat -T 2 - "UDP:127.0.0.1:$port" <<<"udp from socat"
	assert_output "UDP FROM SOCAT"
	run timeout $T nc -u -w 1 127.0.0.1 "$port" <<<"udp from nc"
	assert_output "UDP FROM NC"
}

@test "sockctl serve (relay) <- nc sends a file; sockctl gets it all" {
	head -c $((4 * 1024 * 1024)) /dev/urandom >in.bin
	serve_bg srv 0
	timeout $T nc -N 127.0.0.1 "$port" <in.bin
	wait_exit "$srv_pid"
	cmp in.bin srv.out
}

@test "sockctl connect -u -> socat UDP-RECVFROM echo" {
	start_bg peer socat "UDP-RECVFROM:$PORT,bind=127.0.0.1,fork" EXEC:cat
	for ((i = 0; i < 500; i++)); do
		ss -Huln "sport = :$PORT" | grep -q . && break
		sleep 0.01
	done
	run timeout $T "$SOCKCTL" connect -u -i 1 127.0.0.1 "$PORT" <<<"to socat udp"
	assert_success
	assert_output "to socat udp"
}
