#!/usr/bin/env bats
# connect --tls and serve --tls: verification (a test CA made here), SNI,
# ALPN, client certificates, close_notify and truncation, every handler
# and model, real peers on both sides (openssl s_server/s_client, socat,
# ncat, curl, gnutls), and bad input.
# sockctl: per-backend
load helpers
load tls_pki

# The test PKI (tests/tls_pki.bash), made once for the file.
setup_file() {
	pki_setup_file
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	pki_vars
}

# stop_all: ends what the test started so far (before the next round).
stop_all() {
	teardown_common || true
}

# tls_serve NAME ARGS...: serve --tls with the good chain.
tls_serve() {
	local name=$1
	shift
	serve_bg "$name" --tls "${GOOD[@]}" "$@"
}

@test "connect --tls verifies the chain and the name (DNS and IP SANs); -v sums the handshake up" {
	tls_serve srv -k --echo -v
	for host in localhost 127.0.0.1; do
		run timeout $T "$SOCKCTL" connect -v --tls --cacert "$CA" "$host" "$port" <<<"hi $host"
		assert_success
		assert_line "hi $host"
		assert_line --partial "TLS with $host: TLSv1.3"
		assert_line --partial "peer CN=localhost, verified"
	done
	# An IPv6 literal is checked against the IP SAN too.
	if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/'; then
		tls_serve v6 --echo ::1
		run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" ::1 "$port" <<<"six"
		assert_success
		assert_output "six"
	fi
	# The server's -v line names the client, SNI and ALPN.
	wait_file_contains srv.err "SNI localhost, ALPN none"
	grep -q "SNI none" srv.err
}

@test "verification failures exit 60 with the reason; --insecure and -k connect anyway" {
	for c in expired:"certificate has expired" future:"certificate is not yet valid" \
		wrongname:"hostname mismatch" unknown:"unable to get local issuer certificate"; do
		name=${c%%:*} why=${c#*:}
		serve_bg srv --tls --cert "$PKI/$name.pem" --key "$PKI/$name.key" --respond x
		run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" </dev/null
		[ "$status" -eq 60 ] || { echo "$name: status $status: $output"; false; }
		assert_output --partial "certificate verify failed: $why"
		run timeout $T "$SOCKCTL" connect --tls -k localhost "$port" </dev/null
		assert_success
		assert_output "x"
		stop_all
	done
	serve_bg srv -k --tls --cert "$PKI/self.pem" --key "$PKI/self.key" --respond x
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" </dev/null
	[ "$status" -eq 60 ]
	assert_output --partial "self-signed certificate"
	# Without --cacert the system store does not know the test CA.
	run timeout $T "$SOCKCTL" connect --tls 127.0.0.1 "$port" </dev/null
	[ "$status" -eq 60 ]
	# The certificate itself as the CA file: verified.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$PKI/self.pem" localhost "$port" </dev/null
	assert_success
	assert_output "x"
	run timeout $T "$SOCKCTL" connect --tls --insecure 127.0.0.1 "$port" </dev/null
	assert_success
	# A CA directory (prepared with openssl rehash).
	mkdir cadir
	cp "$CA" cadir/
	openssl rehash cadir 2>/dev/null || c_rehash cadir >/dev/null
	serve_bg srv2 --tls "${GOOD[@]}" --respond y
	run timeout $T "$SOCKCTL" connect --tls --cacert cadir localhost "$port" </dev/null
	assert_success
	assert_output "y"
}

@test "SNI: sent for names (localhost too), never for IP literals; --sni NAME is sent and verified; --no-sni" {
	tls_serve srv -k --echo -v
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<a
	wait_file_contains srv.err "SNI localhost"
	: >srv.err
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" 127.0.0.1 "$port" <<<a
	wait_file_contains srv.err "SNI none"
	: >srv.err
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --sni localhost 127.0.0.1 "$port" <<<a
	wait_file_contains srv.err "SNI localhost"
	: >srv.err
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --no-sni localhost "$port" <<<a
	wait_file_contains srv.err "SNI none"
	# --sni NAME is the name verified: the certificate is not for it.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --sni other.example 127.0.0.1 "$port" </dev/null
	[ "$status" -eq 60 ]
}

@test "ALPN: the server picks from its list; no match: no ALPN" {
	tls_serve srv -k --echo -v --alpn h2,http/1.1
	run timeout $T "$SOCKCTL" connect -v --tls --cacert "$CA" --alpn foo,http/1.1 localhost "$port" <<<a
	assert_success
	assert_line --partial "ALPN http/1.1"
	wait_file_contains srv.err "ALPN http/1.1"
	run timeout $T "$SOCKCTL" connect -v --tls --cacert "$CA" --alpn foo localhost "$port" <<<a
	assert_success
	refute_line --partial "ALPN"
	# openssl s_client asks for h2.
	run bash -c "echo | timeout $T openssl s_client -connect 127.0.0.1:$port -alpn h2 -CAfile '$CA' 2>&1"
	assert_output --partial "ALPN protocol: h2"
}

@test "client certificates: --client-ca requires one; the root's passes, none or another CA's fails (58)" {
	tls_serve srv -k --echo -v --client-ca "$CA"
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		localhost "$port" <<<"alice here"
	assert_success
	assert_output "alice here"
	wait_file_contains srv.err "peer CN=alice, verified"
	# In TLS 1.3 the server's refusal comes after the client's handshake:
	# an alert on the first read.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" </dev/null
	[ "$status" -eq 58 ]
	assert_output --partial "alert certificate required"
	wait_file_contains srv.err "peer did not return a certificate"
	# With data sent at once too: the server reads it away before its
	# close (a reset would discard the alert at the client).
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"nobody"
	[ "$status" -eq 58 ]
	assert_output --partial "alert certificate required"
	refute_output --partial "nobody"
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert "$PKI/mallory.pem" --key "$PKI/mallory.key" \
		localhost "$port" </dev/null
	[ "$status" -eq 58 ]
	assert_output --partial "alert unknown ca"
	# TLS 1.2 refuses during the handshake: the same status.
	run timeout $T "$SOCKCTL" connect --tls --tls-max 1.2 --cacert "$CA" --cert "$PKI/mallory.pem" \
		--key "$PKI/mallory.key" localhost "$port" </dev/null
	[ "$status" -eq 58 ]
	assert_output --partial "the server refused our certificate"
	wait_file_contains srv.err "certificate verify failed: unable to get local issuer certificate"
	# Without --client-ca none is asked for (socat's listener demands one).
	tls_serve srv2 --echo
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"free"
	assert_success
	assert_output "free"
}

@test "serve --tls --exec: the program's environment has the version, cipher and verified client subject" {
	local show='echo "$SOCKCTL_TLS_VERSION|$SOCKCTL_TLS_CIPHER|$SOCKCTL_TLS_SUBJECT|$SOCKCTL_REMOTE_ADDR"'
	tls_serve srv -k --client-ca "$CA" --sh-exec "$show"
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		localhost "$port" </dev/null
	assert_success
	assert_output "TLSv1.3|TLS_AES_256_GCM_SHA384|CN=alice|127.0.0.1"
	# Without --client-ca no subject (none was asked for, none verified).
	tls_serve srv2 -k --sh-exec "$show"
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		localhost "$port" </dev/null
	assert_success
	assert_output "TLSv1.3|TLS_AES_256_GCM_SHA384||127.0.0.1"
	# Plain connections have no TLS variables at all.
	serve_bg srv3 -k --sh-exec 'echo "${SOCKCTL_TLS_VERSION-unset}"'
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_output "unset"
}

@test "stdin EOF sends close_notify and reads on: a strict server's reply after EOF arrives (ncat's bare FIN loses it)" {
	start_bg peer "$PY" "$BATS_TEST_DIRNAME/tls_peer.py" strict "$PKI/good-chain.pem" "$PKI/good.key"
	wait_ready peer
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"ping"
	assert_success
	assert_output "got 5 bytes: ping"
	wait_exit "$peer_pid"
	[ "$status" -eq 0 ]
	# The same server, ncat as the client: no close_notify, no reply.
	start_bg peer2 "$PY" "$BATS_TEST_DIRNAME/tls_peer.py" strict "$PKI/good-chain.pem" "$PKI/good.key"
	wait_ready peer2
	run timeout $T ncat --ssl 127.0.0.1 "$port" <<<"ping"
	refute_output --partial "got"
	wait_exit "$peer2_pid"
	[ "$status" -eq 1 ]
	grep -q truncated peer2.err
	# openssl s_server replies to the client's close_notify too.
	start_bg ss openssl s_server -accept 127.0.0.1:0 -cert "$PKI/good.pem" -cert_chain "$PKI/inter.pem" -key "$PKI/good.key" \
		-naccept 1 -rev
	for ((i = 0; i < 500; i++)); do
		grep -q ACCEPT ss.out && break
		sleep 0.01
	done
	sport=$(ss -ltnp | awk -v p="pid=$ss_pid," '$0 ~ p {split($4, a, ":"); print a[2]; exit}')
	[ -n "$sport" ]
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$sport" <<<"olleh"
	assert_success
	assert_output "hello"
}

@test "a server that closes without close_notify: exit 56, the data before it kept; --tls-allow-truncation: exit 0" {
	start_bg peer "$PY" "$BATS_TEST_DIRNAME/tls_peer.py" truncate "$PKI/good-chain.pem" "$PKI/good.key" "partial"
	wait_ready peer
	run --separate-stderr timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" </dev/null
	[ "$status" -eq 56 ]
	[ "$output" = "partial" ]
	[[ $stderr == *"without close_notify"* ]]
	start_bg peer2 "$PY" "$BATS_TEST_DIRNAME/tls_peer.py" truncate "$PKI/good-chain.pem" "$PKI/good.key" "partial"
	wait_ready peer2
	run --separate-stderr timeout $T "$SOCKCTL" connect --tls --tls-allow-truncation --cacert "$CA" \
		localhost "$port" </dev/null
	assert_success
	[ "$output" = "partial" ]
}

@test "64 MiB (/SCALE) each way through TLS, byte-exact: loop, fork, thread, --exec, and the relay both ways" {
	head -c $MIB64 /dev/urandom >in.bin
	for h in "--echo" "--model=fork --echo" "--model=thread --echo" "-e cat" "--sh-exec cat"; do
		# shellcheck disable=SC2086
		tls_serve srv -k $h
		timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <in.bin >out.bin
		cmp in.bin out.bin || { echo "through serve $h"; false; }
		stop_all
	done
	# The stdin relay: server -> client, then client -> server.
	start_bg_stdin srv in.bin "$SOCKCTL" serve --tls "${GOOD[@]}" 0
	wait_ready srv
	timeout $T "$SOCKCTL" connect --tls --recv-only --cacert "$CA" localhost "$port" >out.bin
	cmp in.bin out.bin
	wait_exit "$srv_pid"
	[ "$status" -eq 0 ]
	tls_serve srv
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <in.bin
	wait_exit "$srv_pid"
	[ "$status" -eq 0 ]
	cmp in.bin srv.out
	# connect --exec over TLS: the program's output goes to the server.
	tls_serve srv
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" -c "cat '$BATS_TEST_TMPDIR/in.bin'" localhost "$port"
	wait_exit "$srv_pid"
	cmp in.bin srv.out
}

@test "serve --tls: --respond to curl https, --broker, --workers, and -k relay" {
	tls_serve srv -k --respond 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n'
	run timeout $T curl -sS --cacert "$CA" "https://localhost:$port/"
	assert_success
	assert_output "ok"
	run timeout $T curl -sS --cacert "$CA" "https://127.0.0.1:$port/"
	assert_success
	assert_output "ok"
	stop_all
	tls_serve srv --broker -v
	mkfifo a.in
	start_bg_stdin a a.in "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port"
	exec 7>a.in
	echo "first" >&7
	# The broker sends to the clients it serves: a's handshake first.
	wait_file_contains srv.err "TLS with 127.0.0.1"
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"to all"
	wait_file_contains a.out "to all"
	exec 7>&-
	wait_exit "$a_pid"
	[ "$status" -eq 0 ]
	stop_all
	tls_serve srv -k --workers 2 --echo
	for i in 1 2 3 4; do
		run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"w$i"
		assert_output "w$i"
	done
	stop_all
	# -k relay: every client's data to stdout, stdin to every client.
	mkfifo k.in
	start_bg_stdin srv k.in "$SOCKCTL" serve -k -v --tls "${GOOD[@]}" 0
	exec 8>k.in
	wait_ready srv
	mkfifo c.in
	start_bg_stdin c c.in "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port"
	exec 9>c.in
	echo "from the client" >&9
	wait_file_contains srv.out "from the client"
	echo "from the server" >&8
	wait_file_contains c.out "from the server"
	exec 9>&- 8>&-
	wait_exit "$c_pid"
	[ "$status" -eq 0 ]
}

@test "real peers: openssl s_client, socat OPENSSL, ncat --ssl and gnutls-cli against serve --tls" {
	# s_client -quiet never ends on its input's end: this server closes
	# once it has answered the line.
	printf 'expect ^hello\\n\nsend hello\\n\n' >"$BATS_TEST_TMPDIR/once.sc"
	tls_serve once -k --script "$BATS_TEST_TMPDIR/once.sc"
	run bash -c "echo hello | timeout $T openssl s_client -quiet -verify_return_error -CAfile '$CA' \
		-connect 127.0.0.1:$port -servername localhost 2>/dev/null"
	assert_success
	assert_output "hello"
	tls_serve srv -k --echo
	run bash -c "echo hello | timeout $T socat - OPENSSL:localhost:$port,cafile='$CA'"
	assert_success
	assert_output "hello"
	run bash -c "echo hello | timeout $T ncat --ssl --ssl-verify --ssl-trustfile '$CA' localhost $port"
	assert_output "hello"
	command -v gnutls-cli >/dev/null || skip "gnutls-cli is not installed"
	run bash -c "echo hello | timeout $T gnutls-cli --logfile=/dev/null --x509cafile='$CA' -p $port localhost"
	assert_output --partial "hello"
}

@test "real peers: connect --tls against openssl s_server, socat OPENSSL-LISTEN, ncat --ssl -l and gnutls-serv" {
	start_bg ss socat OPENSSL-LISTEN:0,bind=127.0.0.1,cert="$PKI/good-chain.pem",key="$PKI/good.key",verify=0 EXEC:cat
	for ((i = 0; i < 500; i++)); do
		sport=$(ss -ltnp | awk -v p="pid=$ss_pid," '$0 ~ p {split($4, a, ":"); print a[2]; exit}')
		[ -n "$sport" ] && break
		sleep 0.01
	done
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$sport" <<<"via socat"
	assert_success
	assert_output "via socat"
	# ncat's listener ends without close_notify: a truncation (56),
	# unless accepted; what it received is whole.
	for allow in "" --tls-allow-truncation; do
		p=$(free_port)
		start_bg nc ncat --ssl --ssl-cert "$PKI/good-chain.pem" --ssl-key "$PKI/good.key" -l 127.0.0.1 "$p" \
			--recv-only
		for ((i = 0; i < 500; i++)); do
			ss -ltn | grep -q "127.0.0.1:$p " && break
			sleep 0.01
		done
		run timeout $T "$SOCKCTL" connect --tls $allow --cacert "$CA" localhost "$p" <<<"to ncat"
		if [ -z "$allow" ]; then
			[ "$status" -eq 56 ]
			assert_output --partial "without close_notify"
		else
			assert_success
		fi
		wait_exit "$nc_pid"
		grep -qx "to ncat" nc.out
	done
	command -v gnutls-serv >/dev/null || skip "gnutls-serv is not installed"
	p=$(free_port)
	start_bg gs gnutls-serv --echo --x509certfile "$PKI/good-chain.pem" --x509keyfile "$PKI/good.key" \
		-a -p "$p"
	for ((i = 0; i < 500; i++)); do
		ss -ltn | grep -q ":$p " && break
		sleep 0.01
	done
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" 127.0.0.1 "$p" <<<"via gnutls"
	assert_output --partial "via gnutls"
}

@test "a handshake that never finishes is dropped after --handshake-timeout, and does not hold up others" {
	tls_serve srv -k --echo --handshake-timeout=1
	start_bg slow "$PY" -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', $port))
t = time.time()
s.settimeout(10)
d = s.recv(1)
print('closed after %.1f' % (time.time() - t))
"
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"meanwhile"
	assert_output "meanwhile"
	wait_exit "$slow_pid"
	grep -q "closed after" slow.out
	wait_file_contains srv.err "timed out after 1 s"
	# The client's own deadline: a server that never answers.
	start_bg mute "$PY" -c "
import socket, time
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
import sys; print('listening on 127.0.0.1:%d (tcp)' % l.getsockname()[1], file=sys.stderr, flush=True)
c, _ = l.accept(); time.sleep(30)
"
	wait_ready mute
	run timeout $T "$SOCKCTL" connect --tls --handshake-timeout 0.5 --cacert "$CA" localhost "$port" </dev/null
	[ "$status" -eq 35 ]
	assert_output --partial "timed out"
}

@test "kernel TLS: sendfile through the kernel where it has TLS" {
	grep -qw tls /proc/modules 2>/dev/null || skip "this kernel has no tls module (kernel TLS falls back to copies)"
	head -c 1000000 /dev/urandom >in.bin
	tls_serve srv -v
	timeout $T "$SOCKCTL" connect -v --tls --cacert "$CA" localhost "$port" <in.bin 2>c.err
	wait_exit "$srv_pid"
	cmp in.bin srv.out
	grep -q "kernel TLS" c.err
}

@test "connect -U --tls: a Unix socket has no name: the chain is verified and -v says no name was checked; --sni NAME checks one" {
	serve_bg srv -k --echo --tls "${GOOD[@]}" -U "$BATS_TEST_TMPDIR/tls.sock"
	run timeout $T "$SOCKCTL" connect -v --tls --cacert "$CA" -U "$BATS_TEST_TMPDIR/tls.sock" <<<"unix"
	assert_success
	assert_line "unix"
	assert_line --partial "chain verified, no name to check it against (give --sni NAME)"
	run timeout $T "$SOCKCTL" connect -v --tls --cacert "$CA" --sni localhost -U "$BATS_TEST_TMPDIR/tls.sock" <<<"named"
	assert_success
	assert_line --partial "peer CN=localhost, verified"
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --sni other.example -U "$BATS_TEST_TMPDIR/tls.sock" </dev/null
	[ "$status" -eq 60 ]
	assert_output --partial "hostname mismatch"
}

@test "TLS 1.2 servers that want a client certificate: none given is 58 with a hint, not a generic handshake failure (35)" {
	tls_serve srv -k --echo --client-ca "$CA"
	run timeout $T "$SOCKCTL" connect --tls --tls-max 1.2 --cacert "$CA" localhost "$port" </dev/null
	[ "$status" -eq 58 ]
	assert_output --partial "the server asked for a client certificate (give --cert and --key)"
	run timeout $T "$SOCKCTL" connect --tls --tls-max 1.2 --cacert "$CA" --cert "$PKI/alice.pem" \
		--key "$PKI/alice.key" localhost "$port" <<<"alice"
	assert_success
	assert_output "alice"
	# A handshake failure without a certificate request stays 35.
	tls_serve srv2 -k --echo
	run timeout $T "$SOCKCTL" connect --tls --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA --cacert "$CA" \
		localhost "$port" </dev/null
	[ "$status" -eq 35 ]
	refute_output --partial "client certificate"
}

@test "bad input: files missing or not matching, unknown versions, TLS options without --tls, -u, serve with a key but no certificate" {
	run "$SOCKCTL" connect --tls --cacert /nonexistent/ca.pem localhost 1
	[ "$status" -eq 77 ]
	assert_output "sockctl: TLS: CA /nonexistent/ca.pem: No such file or directory"
	run "$SOCKCTL" connect --tls --cacert "$PKI/good.key" localhost 1
	[ "$status" -eq 77 ]
	run "$SOCKCTL" connect --tls --cert /nonexistent/c.pem --key "$PKI/alice.key" localhost 1
	[ "$status" -eq 58 ]
	assert_output --partial "No such file or directory"
	run "$SOCKCTL" connect --tls --cert "$PKI/alice.pem" --key "$PKI/mallory.key" localhost 1
	[ "$status" -eq 58 ]
	assert_output --partial "does not match"
	run "$SOCKCTL" serve --tls --cert "$PKI/good.pem" --key "$PKI/alice.key" 0
	[ "$status" -eq 58 ]
	assert_output "sockctl: TLS: key $PKI/alice.key does not match certificate $PKI/good.pem"
	run "$SOCKCTL" serve --tls "${GOOD[@]}" --client-ca /nonexistent 0
	[ "$status" -eq 77 ]
	run "$SOCKCTL" serve --tls --cert "$PKI/good.key" --key "$PKI/good.key" 0
	[ "$status" -eq 58 ]
	# Not PEM: a directory, an empty file.
	run "$SOCKCTL" serve --tls --cert / --key "$PKI/good.key" 0
	[ "$status" -eq 58 ]
	assert_output "sockctl: TLS: certificate /: no start line"
	run "$SOCKCTL" connect --tls --cacert /dev/null localhost 1
	[ "$status" -eq 77 ]
	assert_output "sockctl: TLS: CA /dev/null: no certificate or crl found"
	if [ "$(id -u)" -ne 0 ]; then
		cp "$PKI/good.key" unreadable.key
		chmod 000 unreadable.key
		run "$SOCKCTL" serve --tls --cert "$PKI/good.pem" --key unreadable.key 0
		[ "$status" -eq 58 ]
		assert_output --partial "Permission denied"
	fi
	run "$SOCKCTL" connect --tls --tls-min 1.1 localhost 1
	[ "$status" -eq 2 ]
	assert_output "sockctl connect: invalid --tls-min '1.1': give 1.2 or 1.3 (see 'sockctl connect --help')"
	run "$SOCKCTL" connect --tls --tls-min 1.3 --tls-max 1.2 localhost 1
	[ "$status" -eq 2 ]
	run "$SOCKCTL" connect --tls --ciphersuites NOPE localhost 1
	[ "$status" -eq 2 ]
	assert_output --partial "no cipher match"
	run "$SOCKCTL" connect --cacert "$CA" localhost 1
	[ "$status" -eq 2 ]
	assert_output "sockctl connect: --cacert needs --tls (see 'sockctl connect --help')"
	run "$SOCKCTL" connect --tls -u localhost 1
	[ "$status" -eq 2 ]
	assert_output --partial "DTLS (-u) is not offered"
	run "$SOCKCTL" serve --tls -u "${GOOD[@]}" 0
	[ "$status" -eq 2 ]
	assert_output --partial "DTLS (-u) is not offered"
	run "$SOCKCTL" serve --tls --key "$PKI/good.key" 0
	[ "$status" -eq 2 ]
	assert_output "sockctl serve: --key needs --cert (see 'sockctl serve --help')"
	run "$SOCKCTL" serve --insecure --tls "${GOOD[@]}" 0
	[ "$status" -eq 2 ]
	run "$SOCKCTL" connect --tls --handshake-timeout 0 localhost 1
	[ "$status" -eq 2 ]
	# A version both ends refuse: the handshake fails (35).
	tls_serve srv --tls-max 1.2 --respond x
	run timeout $T "$SOCKCTL" connect --tls --tls-min 1.3 --cacert "$CA" localhost "$port" </dev/null
	[ "$status" -eq 35 ]
	assert_output --partial "TLS handshake with localhost failed"
	# A plain client on a TLS port gets no data, the server goes on.
	tls_serve srv2 -k --echo
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"GET / HTTP/1.0"
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"still up"
	assert_output "still up"
}

@test "through a SOCKS5 and an HTTP proxy: the handshake is with the target, verified for its name" {
	command -v microsocks >/dev/null || skip "microsocks is not installed (build-aux/install-deps.sh)"
	tls_serve srv -k --echo
	sp=$(free_port)
	start_bg socks microsocks -i 127.0.0.1 -p "$sp"
	for ((i = 0; i < 500; i++)); do
		ss -ltn | grep -q "127.0.0.1:$sp " && break
		sleep 0.01
	done
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --proxy "127.0.0.1:$sp" --proxy-type socks5 \
		localhost "$port" <<<"via socks"
	assert_success
	assert_output "via socks"
	# The name checked is the target's, not the proxy's.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --proxy "127.0.0.1:$sp" --proxy-type socks5 \
		--sni other.example localhost "$port" </dev/null
	[ "$status" -eq 60 ]
}

@test "through an https proxy (ncat --ssl --proxy-type http): TLS to the proxy, and TLS to the target inside it" {
	command -v ncat >/dev/null || skip "ncat is not installed"
	local tport plain_port pport
	tls_serve srv -k --echo
	tport=$port
	serve_bg plain -k --echo
	plain_port=$port
	pport=$(free_port)
	start_bg hproxy ncat -l 127.0.0.1 "$pport" --proxy-type http --ssl --ssl-cert "$PKI/good-chain.pem" \
		--ssl-key "$PKI/good.key"
	wait_listen "$pport"
	# A plain target through the proxy's TLS, verified for the proxy's name.
	run timeout $T "$SOCKCTL" connect -v --proxy "https://localhost:$pport" --proxy-cacert "$CA" \
		127.0.0.1 "$plain_port" <<<"plain inside"
	assert_success
	assert_line "plain inside"
	assert_line --partial "TLS with localhost: TLSv1.3"
	# TLS to the target inside the proxy's TLS: both verified, each for its name.
	run timeout $T "$SOCKCTL" connect -v --tls --cacert "$CA" --proxy "localhost:$pport" --proxy-type https \
		--proxy-cacert "$CA" localhost "$tport" <<<"tls in tls"
	assert_success
	assert_line "tls in tls"
	[ "$(grep -c 'TLS with localhost: TLSv1.3.*verified' <<<"$output")" -eq 2 ]
	# The proxy's certificate is checked for the proxy's name, with its own CA.
	run timeout $T "$SOCKCTL" connect --proxy "https://127.0.0.2:$pport" --proxy-cacert "$CA" \
		127.0.0.1 "$plain_port" </dev/null
	assert_failure
	run timeout $T "$SOCKCTL" connect --proxy "https://localhost:$pport" 127.0.0.1 "$plain_port" </dev/null
	assert_failure
	assert_output --partial "TLS to the proxy"
	assert_output --partial "certificate verify failed"
	run timeout $T "$SOCKCTL" connect --proxy "https://localhost:$pport" --proxy-insecure 127.0.0.1 \
		"$plain_port" <<<"insecure"
	assert_success
	assert_output "insecure"
	run "$SOCKCTL" connect --proxy "localhost:$pport" --proxy-cacert "$CA" 127.0.0.1 1
	[ "$status" -eq 2 ]
	assert_output --partial "--proxy-cacert and --proxy-insecure are for an https proxy"
	run "$SOCKCTL" connect --proxy-insecure 127.0.0.1 1
	[ "$status" -eq 2 ]
	assert_output --partial "need --proxy"
}

@test "without -k: a client whose handshake fails is not the one client; the next one is served" {
	tls_serve srv --echo
	run timeout $T "$SOCKCTL" connect --tls localhost "$port" </dev/null
	[ "$status" -eq 60 ]
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <<<"the one"
	assert_success
	assert_output "the one"
	wait_exit "$srv_pid"
	[ "$status" -eq 0 ]
	grep -q "TLS handshake with 127.0.0.1:.* failed" srv.err
}
