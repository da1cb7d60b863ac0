#!/usr/bin/env bats
# resolve --tls: DNS over TLS to dnsmasq behind a TLS terminator (socat
# OPENSSL-LISTEN, a real peer; and sockctl serve --tls), with the test
# CA of tests/tls_pki.bash: verification by address and by --sni name,
# the failures, and the usage errors.
# sockctl: per-backend
load helpers
load tls_pki
load dns-zone

setup_file() {
	command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
	pki_setup_file
	dns_start "$BATS_FILE_TMPDIR" ""
	# DNS over TLS: socat ends TLS and hands each connection to dnsmasq's TCP.
	export DOT_PORT
	DOT_PORT=$(free_port)
	socat OPENSSL-LISTEN:"$DOT_PORT",bind=127.0.0.1,reuseaddr,fork,cert="$PKI/good-chain.pem",key="$PKI/good.key",verify=0 \
		TCP:127.0.0.1:"$DNS_PORT" 3>&- &
	echo $! >>"$BATS_FILE_TMPDIR/pids"
	for _ in $(seq 500); do
		ss -Htln "sport = :$DOT_PORT" | grep -q . && break
		sleep 0.01
	done
	export DOT="127.0.0.1:$DOT_PORT"
}

teardown_file() {
	dns_stop "$BATS_FILE_TMPDIR"
}

teardown() {
	teardown_common
}

rt() {
	timeout "$T" "$SOCKCTL" resolve --tls --timeout 3 "$@"
}

@test "--tls: the answer over TLS, verified for the server's address; several names at once" {
	run --separate-stderr rt --cacert "$PKI/root.pem" --server "$DOT" -t A,AAAA www.test
	assert_success
	assert_line --index 0 --regexp "^;; www\.test A: ok \(NOERROR\) from $DOT over tls in [0-9.]+ ms$"
	assert_line --index 1 $'www.test.\t300\tIN\tA\t192.0.2.1'
	assert_line --index 3 $'www.test.\t300\tIN\tAAAA\t2001:db8::1'
	run --separate-stderr rt --cacert "$PKI/root.pem" --server "$DOT" --short www.test mail.test \
		alias.test
	assert_success
	assert_output $'192.0.2.1\n192.0.2.25\nwww.test.\n192.0.2.1'
	run rt --cacert "$PKI/root.pem" --server "$DOT" --json nosuch.test
	assert_failure 3
	[[ $output == *'"transport":"tls"'* && $output == *'"status":"nxdomain"'* ]]
}

@test "--tls: dig's form, +tls and @SERVER, and the default port 853 with -p" {
	run --separate-stderr timeout "$T" "$SOCKCTL" resolve @"$DOT" +tls +short --cacert \
		"$PKI/root.pem" www.test
	assert_success
	assert_output 192.0.2.1
	# Without a port the server is asked on 853, or on -p's.
	run --separate-stderr rt --cacert "$PKI/root.pem" -p "$DOT_PORT" --server 127.0.0.1 --short \
		www.test
	assert_success
	assert_output 192.0.2.1
	run --separate-stderr rt --cacert "$PKI/root.pem" --tries 1 --timeout 1 --server 127.0.0.1 www.test
	assert_failure
	[[ $stderr$output == *"127.0.0.1:853"* ]]
}

@test "--tls verification: --sni NAME, a wrong name, an unknown CA, --insecure" {
	run --separate-stderr rt --cacert "$PKI/root.pem" --sni localhost --server "$DOT" --short \
		www.test
	assert_success
	assert_output 192.0.2.1
	run rt --cacert "$PKI/root.pem" --sni other.example --tries 1 --server "$DOT" www.test
	assert_failure 1
	assert_output --partial "certificate verify failed"
	# The system store does not know the test CA.
	run rt --tries 1 --server "$DOT" www.test
	assert_failure 1
	assert_output --partial "certificate verify failed"
	run --separate-stderr rt -k --server "$DOT" --short www.test
	assert_success
	assert_output 192.0.2.1
	run --separate-stderr rt --insecure --server "$DOT" --short www.test
	assert_success
}

@test "--tls against sockctl serve --tls in front of dnsmasq, and a server that speaks no TLS" {
	start_bg dot "$SOCKCTL" serve --tls --cert "$PKI/good-chain.pem" --key "$PKI/good.key" -k \
		--sh-exec "exec $SOCKCTL connect 127.0.0.1 $DNS_PORT" 127.0.0.1 0
	wait_ready dot
	run --separate-stderr rt --cacert "$PKI/root.pem" --server "127.0.0.1:$port" --short www.test
	assert_success
	assert_output 192.0.2.1
	# dnsmasq's own TCP port, asked with TLS: it takes the hello for the
	# length of a query and waits for the rest; the try times out there.
	run rt --cacert "$PKI/root.pem" --tries 1 --timeout 1 --server "$DNS" www.test
	assert_failure 7
	assert_output --partial "www.test A: timeout (timed out in the TLS handshake; 1 try"
}

# dot_front NAME ADDR: sockctl serve --tls -v in front of a DNS server's
# TCP port ADDR; $port is the TLS side's.
dot_front() {
	start_bg "$1" "$SOCKCTL" serve --tls --cert "$PKI/good-chain.pem" --key "$PKI/good.key" -k -v \
		--sh-exec "exec $SOCKCTL connect ${2%:*} ${2##*:}" 127.0.0.1 0
	wait_ready "$1"
}

@test "--tls: the queries to one server share one connection and one handshake" {
	dot_front dot "127.0.0.1:$DNS_PORT"
	run --separate-stderr rt --cacert "$PKI/root.pem" --server "127.0.0.1:$port" --short \
		www.test mail.test alias.test www.test mail.test
	assert_success
	assert_output $'192.0.2.1\n192.0.2.25\nwww.test.\n192.0.2.1\n192.0.2.1\n192.0.2.25'
	[ "$(grep -c 'TLS with 127.0.0.1:' "$BATS_TEST_TMPDIR/dot.err")" -eq 1 ]
}

@test "--tls: pipelined answers that come back out of order reach their own queries" {
	start_bg peer "$PY" "$BATS_TEST_DIRNAME/dns_peer.py" tcp-reverse
	wait_ready peer
	dot_front dot "$addr"
	run --separate-stderr rt --cacert "$PKI/root.pem" --server "127.0.0.1:$port" one.test two.test
	assert_success
	assert_line $'one.test.\t60\tIN\tA\t192.0.2.99'
	assert_line $'two.test.\t60\tIN\tA\t192.0.2.99'
	[ "$(grep -c 'TLS with 127.0.0.1:' "$BATS_TEST_TMPDIR/dot.err")" -eq 1 ]
}

@test "--tls: a server that closes after each answer: the rest go again on a new connection, uncounted" {
	start_bg peer "$PY" "$BATS_TEST_DIRNAME/dns_peer.py" tcp-one
	wait_ready peer
	# socat ends the TLS connection when the peer's ends.
	local tport
	tport=$(free_port)
	start_bg front socat OPENSSL-LISTEN:"$tport",bind=127.0.0.1,reuseaddr,fork,cert="$PKI/good-chain.pem",key="$PKI/good.key",verify=0 \
		TCP:"$addr"
	for _ in $(seq 500); do
		ss -Htln "sport = :$tport" | grep -q . && break
		sleep 0.01
	done
	run --separate-stderr rt --cacert "$PKI/root.pem" --server "127.0.0.1:$tport" --tries 1 --short \
		a.test b.test c.test d.test
	assert_success
	assert_output $'192.0.2.99\n192.0.2.99\n192.0.2.99\n192.0.2.99'
}

@test "--tls usage errors: no server, AXFR, a TLS option without --tls" {
	run timeout "$T" "$SOCKCTL" resolve --tls www.test
	assert_failure 2
	assert_output --partial "--tls is DNS over TLS: it needs --server or @SERVER"
	run timeout "$T" "$SOCKCTL" resolve --tls --server "$DOT" -t AXFR test
	assert_failure 2
	assert_output --partial "AXFR over TLS is not offered"
	run timeout "$T" "$SOCKCTL" resolve --cacert "$PKI/root.pem" --server "$DOT" www.test
	assert_failure 2
	assert_output --partial "needs --tls"
	run timeout "$T" "$SOCKCTL" resolve --tls --cacert /nonexistent --server "$DOT" www.test
	assert_failure
	assert_output --partial "/nonexistent"
}
