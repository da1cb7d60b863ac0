#!/usr/bin/env bats
# forward --tls (terminate) and --target-tls (originate), both at once
# (re-encryption), against real peers (openssl s_server, s_client) with
# the test CA of tests/tls_pki.bash; handshake failures on either side.
# sockctl: per-backend
load helpers
load tls_pki

setup_file() {
	pki_setup_file
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	pki_vars
}

forward_bg() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" forward "$@"
	wait_ready "$name"
}

# pin_of NAME: the pin on NAME's readiness line.
pin_of() {
	grep -o 'tls pin sha256//[^)]*' "$BATS_TEST_TMPDIR/$1.err" | cut -d' ' -f3
}

# s_server_bg NAME ARGS...: openssl s_server with the good certificate on
# a free port, in $sport once it accepts.
s_server_bg() {
	local name=$1 i
	shift
	start_bg "$name" openssl s_server -accept 127.0.0.1:0 -cert "$PKI/good.pem" \
		-cert_chain "$PKI/inter.pem" -key "$PKI/good.key" "$@"
	for ((i = 0; i < 1000; i++)); do
		grep -q ACCEPT "$name.out" && break
		sleep 0.01
	done
	local pidvar="${name}_pid"
	sport=$(ss -ltnp | awk -v p="pid=${!pidvar}," '$0 ~ p {split($4, a, ":"); print a[2]; exit}')
	[ -n "$sport" ]
}

@test "forward --tls: a temporary certificate, its pin on the readiness line; clients verify it" {
	serve_bg tgt -k --echo
	TPORT=$port
	forward_bg fwd --tls -v 0 127.0.0.1 "$TPORT"
	grep -q "listening on 127.0.0.1:$port (tcp, mux=[a-z]*, tls pin sha256//" fwd.err
	run timeout $T "$SOCKCTL" connect --tls --pin "$(pin_of fwd)" 127.0.0.1 "$port" <<<"wrapped"
	assert_success
	assert_output "wrapped"
	# openssl s_client as the client. It never ends on its input's end
	# (-quiet): this target closes once it has answered the line.
	printf 'expect ^from s_client\\n\nsend from s_client\\n\n' >"$BATS_TEST_TMPDIR/once.sc"
	serve_bg once -k --script "$BATS_TEST_TMPDIR/once.sc"
	forward_bg fwd2 --tls 0 127.0.0.1 "$port"
	run timeout $T sh -c "printf 'from s_client\n' | openssl s_client -quiet -connect 127.0.0.1:$port 2>/dev/null"
	assert_success
	assert_output "from s_client"
}

@test "forward --tls --cert: stunnel-style, a plain target behind a verified certificate" {
	head -c 4194304 /dev/urandom >big
	serve_bg tgt -k --echo
	forward_bg fwd --tls "${GOOD[@]}" 0 127.0.0.1 "$port"
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <big >back
	cmp big back
}

@test "forward --target-tls: to openssl s_server, verified against the CA, SNI from TARGET-HOST" {
	s_server_bg ss -rev -tlsextdebug
	forward_bg fwd -v --target-tls --target-cacert "$CA" 0 localhost "$sport"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"olleh"
	assert_success
	assert_output "hello"
	# The name went as SNI (extension type 0, "server name").
	grep -q 'TLS client extension "server name"' ss.out
}

@test "forward --tls --target-tls: re-encrypted both ways, 4 MiB compared" {
	head -c 4194304 /dev/urandom >big
	start_bg tgt "$SOCKCTL" serve -k --tls "${GOOD[@]}" --echo 127.0.0.1 0
	wait_ready tgt
	forward_bg fwd --tls "${GOOD[@]}" --target-tls --target-cacert "$CA" 0 localhost "$port"
	timeout $T "$SOCKCTL" connect --tls --cacert "$CA" localhost "$port" <big >back
	cmp big back
}

@test "forward --target-tls: a target that does not verify resets the client; the log says why" {
	start_bg tgt "$SOCKCTL" serve -k --tls "${GOOD[@]}" --echo 127.0.0.1 0
	wait_ready tgt
	TPORT=$port
	forward_bg fwd --target-tls 0 localhost "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"x"
	assert_failure 1
	refute_output x
	wait_file_contains fwd.err "certificate verify failed"
	# A wrong pin is refused the same way; --target-insecure goes through.
	forward_bg fwd2 --target-tls --target-insecure \
		--target-pin sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= 0 localhost "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"x"
	refute_output x
	wait_file_contains fwd2.err "pin"
	forward_bg fwd3 --target-tls --target-insecure 0 localhost "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"through"
	assert_output through
}

@test "forward --tls: a client that does not speak TLS is logged, the forwarder goes on" {
	serve_bg tgt -k --echo -v
	forward_bg fwd --tls --handshake-timeout 2 0 127.0.0.1 "$port"
	pin=$(pin_of fwd)
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"plain text here"
	wait_file_contains fwd.err "127.0.0.1"
	run grep -c "connection from" tgt.err
	assert_output 0
	run timeout $T "$SOCKCTL" connect --tls --pin "$pin" 127.0.0.1 "$port" <<<"after"
	assert_output after
}

@test "forward --tls --cert that cannot be used: exit 58 before listening; --target-cacert missing: 77" {
	run timeout $T "$SOCKCTL" forward --tls --cert /nonexistent.pem 0 127.0.0.1 1
	[ "$status" -eq 58 ]
	refute_output --partial "listening on"
	run timeout $T "$SOCKCTL" forward --target-tls --target-cacert /nonexistent.pem 0 127.0.0.1 1
	[ "$status" -eq 77 ]
	refute_output --partial "listening on"
}

@test "forward --accept-proxy --tls --send-proxy v1: the header before TLS on both sides" {
	# The target prints the PROXY line it got, then echoes.
	start_bg tgt $PY -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
f = c.makefile("rb")
line = f.readline()
c.sendall(b"got " + line.rstrip(b"\r\n") + b"\n" + f.readline())
'
	for ((i = 0; i < 500; i++)); do [[ -s tgt.out ]] && break; sleep 0.01; done
	forward_bg fwd --accept-proxy --tls "${GOOD[@]}" --send-proxy v1 0 127.0.0.1 "$(head -1 tgt.out)"
	run timeout $T $PY -c '
import socket, ssl, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"PROXY TCP4 198.51.100.20 203.0.113.1 5555 443\r\n")
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(c, server_hostname="localhost")
t.sendall(b"inside TLS\n")
print(t.recv(1000).decode() + t.recv(1000).decode(), end="")
' "$port" "$CA"
	assert_success
	assert_line --index 0 "got PROXY TCP4 198.51.100.20 203.0.113.1 5555 443"
	assert_line --index 1 "inside TLS"
}

@test "forward --proxy https://: the target reached through ncat --ssl's HTTP proxy, the proxy verified for its name" {
	command -v ncat >/dev/null || skip "ncat is not installed"
	serve_bg tgt -k --echo
	local tport=$port pport
	pport=$(free_port)
	start_bg hproxy ncat -l 127.0.0.1 "$pport" --proxy-type http --ssl --ssl-cert "$PKI/good-chain.pem" \
		--ssl-key "$PKI/good.key"
	wait_listen "$pport"
	forward_bg fwd --proxy "https://localhost:$pport" --proxy-cacert "$CA" 0 127.0.0.1 "$tport"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"through the https proxy"
	assert_success
	assert_output "through the https proxy"
	# Without the proxy's CA its certificate does not verify: the client is reset.
	forward_bg bad -v --proxy "https://localhost:$pport" 0 127.0.0.1 "$tport"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"x"
	refute_output "x"
	wait_file_contains bad.err "TLS to the proxy"
}
