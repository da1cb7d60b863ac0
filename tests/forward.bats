#!/usr/bin/env bats
# sockctl forward: clients relayed to a target, both ways, with
# half-close; real peers (curl, nginx, nc, ncat, socat) on either side.
# sockctl: per-backend
load helpers
load nginx

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# forward_bg NAME ARGS...: starts `sockctl forward ARGS` and waits for
# its readiness line; the listening port is then in $port.
forward_bg() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" forward "$@"
	wait_ready "$name"
}

# A target: serve -k --echo, its port in $TPORT.
echo_target() {
	serve_bg tgt -k --echo "$@"
	TPORT=$port
}

@test "forward: a line both ways through to an echo server, -v line at its end" {
	echo_target
	forward_bg fwd -v 0 127.0.0.1 "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"hello through"
	assert_success
	assert_output "hello through"
	wait_file_contains fwd.err "up 14 bytes, down 14 bytes"
	run grep -E '^sockctl: 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:'"$TPORT"': up 14 bytes, down 14 bytes in [0-9.]+ s, closed$' fwd.err
	assert_success
}

@test "forward: 64 MiB each way, compared" {
	head -c "$MIB64" /dev/urandom >big
	echo_target
	forward_bg fwd 0 127.0.0.1 "$TPORT"
	timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <big >back
	cmp big back
}

@test "forward --no-zero-copy: 64 MiB each way through the copy path" {
	head -c "$MIB64" /dev/urandom >big
	echo_target
	forward_bg fwd --no-zero-copy 0 127.0.0.1 "$TPORT"
	timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <big >back
	cmp big back
}

@test "forward: the client's FIN reaches the target, which replies after it" {
	# The target answers only once its input ended: the reply must come
	# back over the half-closed connection.
	serve_bg tgt -k --sh-exec 'wc -c'
	forward_bg fwd 0 127.0.0.1 "$port"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"12345"
	assert_success
	[ "$(echo $output)" = 6 ]
}

@test "forward: the target's FIN reaches the client, which still sends after it" {
	# The target says hello and shuts its write side at once, then
	# reads what the client sends afterwards.
	start_bg tgt $PY -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"hello\n"); c.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = c.recv(65536)
    if not b: break
    data += b
open(sys.argv[1], "wb").write(data)
' "$BATS_TEST_TMPDIR/got"
	for ((i = 0; i < 500; i++)); do [[ -s tgt.out ]] && break; sleep 0.01; done
	TPORT=$(head -1 tgt.out)
	forward_bg fwd 0 127.0.0.1 "$TPORT"
	# The client reads the hello and its EOF, then sends: a client that
	# closed on the target's FIN would lose "after".
	run timeout $T $PY -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
got = b""
while True:
    b = c.recv(100)
    if not b: break
    got += b
c.sendall(b"after the FIN\n"); c.shutdown(socket.SHUT_WR)
print(got.decode().strip())
' "$port"
	assert_success
	assert_output hello
	wait_exit "$tgt_pid"
	[ "$(cat got)" = "after the FIN" ]
}

@test "forward: a reset is passed on as a reset, each way; the -v line names who reset" {
	# The target reads until its connection ends and writes how it
	# ended; with "reset" as its argument it resets the connection
	# itself once the request is there.
	start_bg tgt $PY -c '
import socket, struct, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(2)
print(s.getsockname()[1], flush=True)
for mode in sys.argv[2:]:
    c, _ = s.accept()
    how = "fin"
    try:
        got = c.recv(100)
        if mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close(); continue
        while c.recv(100):
            pass
    except ConnectionResetError:
        how = "reset"
    open(sys.argv[1], "a").write(how + "\n")
' "$BATS_TEST_TMPDIR/ends" wait reset
	for ((i = 0; i < 500; i++)); do [[ -s tgt.out ]] && break; sleep 0.01; done
	TPORT=$(head -1 tgt.out)
	forward_bg fwd -v 0 127.0.0.1 "$TPORT"
	# The client sends, then resets: the target must see a reset.
	timeout $T $PY -c '
import socket, struct, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"x")
time.sleep(0.2)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
' "$port"
	wait_file_contains ends reset
	wait_file_contains fwd.err "read from 127.0.0.1:"
	run grep -E 'up 1 bytes, down 0 bytes in [0-9.]+ s, read from 127\.0\.0\.1:[0-9]+: Connection reset by peer$' fwd.err
	assert_success
	# The target resets: the client must see a reset.
	run timeout $T $PY -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"x")
try:
    while c.recv(100):
        pass
    print("fin")
except ConnectionResetError:
    print("reset")
' "$port"
	assert_success
	assert_output reset
	wait_file_contains fwd.err "read from 127.0.0.1:$TPORT: Connection reset by peer"
}

@test "forward: a target that refuses resets the client; the log says why" {
	p=$(free_port)
	forward_bg fwd 0 127.0.0.1 "$p"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"x"
	assert_failure 1
	assert_output --partial "reset"
	wait_file_contains fwd.err "127.0.0.1:$p: connect 127.0.0.1:$p: Connection refused"
	# The forwarder goes on.
	kill -0 "$fwd_pid"
}

@test "forward -n: a target name that does not resolve closes the client with the reason" {
	forward_bg fwd -n 0 no-such-host.invalid 80
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_failure 1
	wait_file_contains fwd.err "no-such-host.invalid:80:"
	kill -0 "$fwd_pid"
}

@test "forward: curl to http serve through forward" {
	printf 'page body\n' >index.html
	start_bg web "$SOCKCTL" http serve -d "$BATS_TEST_TMPDIR" 127.0.0.1 0
	wait_ready web
	forward_bg fwd 0 127.0.0.1 "$port"
	run timeout $T curl -sS "http://127.0.0.1:$port/index.html"
	assert_success
	assert_output "page body"
}

@test "forward: curl to nginx through forward, keep-alive over several requests" {
	mkdir www
	printf 'from nginx\n' >www/a.txt
	nginx_start "$BATS_TEST_TMPDIR/www"
	NP=$port
	forward_bg fwd -v 0 127.0.0.1 "$NP"
	run timeout $T curl -sS "http://127.0.0.1:$port/a.txt" "http://127.0.0.1:$port/a.txt"
	assert_success
	assert_output $'from nginx\nfrom nginx'
	# Both requests went over one forwarded connection.
	wait_file_contains fwd.err "closed"
	[ "$(grep -c ' -> 127.0.0.1:'"$NP"': ' fwd.err)" = 1 ]
}

@test "forward: nc, ncat and socat as clients" {
	echo_target
	forward_bg fwd 0 127.0.0.1 "$TPORT"
	run timeout $T nc -N 127.0.0.1 "$port" <<<"from nc"
	assert_output "from nc"
	run timeout $T ncat 127.0.0.1 "$port" <<<"from ncat"
	assert_output "from ncat"
	run timeout $T socat - "TCP:127.0.0.1:$port" <<<"from socat"
	assert_output "from socat"
}

@test "forward: nc, ncat and socat as targets" {
	local p
	p=$(free_port)
	start_bg nc timeout $T nc -N -l 127.0.0.1 "$p"
	wait_listen "$p"
	forward_bg fwd 0 127.0.0.1 "$p"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"to nc"
	assert_success
	wait_exit "$nc_pid"
	[ "$(cat nc.out)" = "to nc" ]

	p=$(free_port)
	start_bg ncat timeout $T ncat -l --recv-only 127.0.0.1 "$p"
	wait_listen "$p"
	start_bg fwd2 "$SOCKCTL" forward 0 127.0.0.1 "$p"
	wait_ready fwd2
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"to ncat"
	assert_success
	wait_exit "$ncat_pid"
	[ "$(cat ncat.out)" = "to ncat" ]

	p=$(free_port)
	start_bg socat timeout $T socat "TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr" SYSTEM:'tr a-z A-Z'
	wait_listen "$p"
	start_bg fwd3 "$SOCKCTL" forward 0 127.0.0.1 "$p"
	wait_ready fwd3
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"to socat"
	assert_success
	assert_output "TO SOCAT"
}

@test "forward -m 1: a second client at once is closed, the first goes on" {
	echo_target
	forward_bg fwd -v -m 1 0 127.0.0.1 "$TPORT"
	mkfifo in
	start_bg_stdin first in "$SOCKCTL" connect 127.0.0.1 "$port"
	exec 8>in
	echo one >&8
	wait_file_contains first.out one
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"two"
	refute_output --partial two
	wait_file_contains fwd.err "connection limit (-m) reached"
	echo three >&8
	exec 8>&-
	wait_exit "$first_pid"
	[ "$(cat first.out)" = $'one\nthree' ]
}

@test "forward --deny: the client is refused, the target sees nothing" {
	echo_target -v
	forward_bg fwd -v --deny 127.0.0.0/8 0 127.0.0.1 "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"x"
	refute_output x
	wait_file_contains fwd.err "not allowed by --allow/--deny"
	run grep -c "connection from" tgt.err
	assert_output 0
}

@test "forward --workers 2: clients are served, SIGTERM stops them all" {
	echo_target
	forward_bg fwd --workers 2 0 127.0.0.1 "$TPORT"
	for i in 1 2 3 4; do
		run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"w$i"
		assert_output "w$i"
	done
	kill -TERM "$fwd_pid"
	wait_exit "$fwd_pid"
	[ "$status" = 0 ]
}

@test "forward --stats=json, -x: totals at exit on SIGTERM and the session's hex dump" {
	echo_target
	forward_bg fwd --stats=json -x dump 0 127.0.0.1 "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"abc"
	assert_output abc
	kill -TERM "$fwd_pid"
	wait_exit "$fwd_pid"
	[ "$status" = 0 ]
	run tail -1 fwd.err
	assert_output --regexp '^\{"sent":4,"received":4,"seconds":[0-9.]+,"connections":1\}$'
	grep -q '^> 00000000  61 62 63 0a' dump
	grep -q '^< 00000000  61 62 63 0a' dump
}

@test "forward --nodelay: socket options apply on both sides" {
	echo_target
	forward_bg fwd --nodelay --keepalive 0 127.0.0.1 "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"opts"
	assert_output opts
}

@test "forward --listen-unix: Unix clients to a TCP target, 64 MiB each way; the path goes at exit" {
	head -c "$MIB64" /dev/urandom >big
	echo_target
	start_bg fwd "$SOCKCTL" forward -v --listen-unix "$BATS_TEST_TMPDIR/fwd.sock" 127.0.0.1 "$TPORT"
	wait_ready fwd
	[ "$addr" = "$BATS_TEST_TMPDIR/fwd.sock" ]
	grep -q "(unix, mux=" fwd.err
	timeout $T "$SOCKCTL" connect -U "$BATS_TEST_TMPDIR/fwd.sock" <big >back
	cmp big back
	run timeout $T socat - "UNIX-CONNECT:$BATS_TEST_TMPDIR/fwd.sock" <<<"from socat"
	assert_output "from socat"
	kill -TERM "$fwd_pid"
	wait_exit "$fwd_pid"
	[ "$status" = 0 ]
	[ ! -e "$BATS_TEST_TMPDIR/fwd.sock" ]
}

@test "forward --target-unix: TCP clients to a Unix target (abstract and a path), half-close kept" {
	serve_bg tgt -k --sh-exec 'wc -c' -U "@sockctl-fwd-$$-$BATS_TEST_NUMBER"
	forward_bg fwd 0 --target-unix "@sockctl-fwd-$$-$BATS_TEST_NUMBER"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"1234567"
	assert_success
	[ "$(echo $output)" = 8 ]
	start_bg nc timeout $T nc -N -lU "$BATS_TEST_TMPDIR/t.sock"
	for ((i = 0; i < 1000; i++)); do [[ -S t.sock ]] && break; sleep 0.01; done
	start_bg fwd2 "$SOCKCTL" forward 0 --target-unix "$BATS_TEST_TMPDIR/t.sock"
	wait_ready fwd2
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"to nc -U"
	assert_success
	wait_exit "$nc_pid"
	[ "$(cat nc.out)" = "to nc -U" ]
}

@test "forward --listen-unix --target-unix: Unix to Unix" {
	serve_bg tgt -k --echo -U "$BATS_TEST_TMPDIR/echo.sock"
	start_bg fwd "$SOCKCTL" forward --listen-unix "@sockctl-fwdl-$$" --target-unix "$BATS_TEST_TMPDIR/echo.sock"
	wait_ready fwd
	run timeout $T "$SOCKCTL" connect -U "@sockctl-fwdl-$$" <<<"unix both"
	assert_output "unix both"
}

@test "forward -u: several clients at once, each gets only its own answers; sessions expire" {
	serve_bg tgt -u --echo
	TPORT=$port
	forward_bg fwd -u -v -i 1 --stats=json 0 127.0.0.1 "$TPORT"
	grep -q "(udp, mux=" fwd.err
	# Four clients, each its own socket, interleaved: 20 datagrams each.
	run timeout $T $PY -c '
import socket, sys, threading
port = int(sys.argv[1]); bad = []
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
for s in socks: s.settimeout(5)
for n in range(20):
    for i, s in enumerate(socks):
        s.sendto(b"c%d-%d" % (i, n), ("127.0.0.1", port))
for i, s in enumerate(socks):
    got = sorted(s.recv(100) for _ in range(20))
    want = sorted(b"c%d-%d" % (i, n) for n in range(20))
    if got != want: bad.append((i, got))
print("bad" if bad else "ok", bad)
' "$port"
	assert_success
	assert_output "ok []"
	wait_file_contains fwd.err "expired" 10
	for ((i = 0; i < 1000; i++)); do
		(($(grep -c ', expired$' fwd.err) == 4)) && break
		sleep 0.01
	done
	[ "$(grep -c ': new session to ' fwd.err)" = 4 ]
	[ "$(grep -c 'up 20 datagrams (.* bytes), down 20 datagrams .*, expired$' fwd.err)" = 4 ]
	# After expiry the same client gets a new session.
	run timeout $T "$SOCKCTL" udp-send -w 1 127.0.0.1 "$port" again
	assert_output again
	[ "$(grep -c ': new session to ' fwd.err)" = 5 ]
	kill -TERM "$fwd_pid"
	wait_exit "$fwd_pid"
	run tail -1 fwd.err
	assert_output --regexp '^\{"sent":[0-9]+,"received":[0-9]+,"seconds":[0-9.]+,"connections":81\}$'
}

@test "forward -u -m 1: a second client's datagrams are dropped while the first's session lives" {
	serve_bg tgt -u --echo
	forward_bg fwd -u -v -m 1 0 127.0.0.1 "$port"
	run timeout $T "$SOCKCTL" udp-send -w 1 127.0.0.1 "$port" first
	assert_output first
	run timeout $T "$SOCKCTL" udp-send -w 1 127.0.0.1 "$port" second
	refute_output --partial second
	wait_file_contains fwd.err "session limit (-m) reached"
}

@test "forward -u: a target that is not there: the client gets nothing, the log says so" {
	p=$(free_port)
	forward_bg fwd -u -v 0 127.0.0.1 "$p"
	run timeout $T "$SOCKCTL" udp-send -w 1 127.0.0.1 "$port" x
	refute_output x
	wait_file_contains fwd.err "Connection refused (port unreachable)"
	kill -0 "$fwd_pid"
}

# haproxy_bg NAME FRONT-BIND-EXTRA SERVER-EXTRA TARGET-PORT: haproxy in
# the foreground (-db), TCP mode, one frontend on a free port ($HPORT)
# to one server; its log lines ("client ADDR:PORT") on its stdout.
haproxy_bg() {
	command -v haproxy >/dev/null || skip "haproxy is not installed"
	local name=$1 bindx=$2 serverx=$3 tport=$4
	HPORT=$(free_port)
	cat >"$BATS_TEST_TMPDIR/$name.cfg" <<-CFG
		global
			log stdout format raw local0
		defaults
			mode tcp
			log global
			timeout connect 5s
			timeout client 30s
			timeout server 30s
		frontend fe
			bind 127.0.0.1:$HPORT $bindx
			log-format "client %ci:%cp"
			default_backend be
		backend be
			server s1 127.0.0.1:$tport $serverx
	CFG
	start_bg "$name" haproxy -db -f "$BATS_TEST_TMPDIR/$name.cfg"
	wait_listen "$HPORT"
}

# client_from ADDR PORT TEXT: sends TEXT from ADDR (a loopback address of
# its own), prints its source port, then the reply.
client_from() {
	timeout $T $PY -c '
import socket, sys
c = socket.socket(); c.bind((sys.argv[1], 0)); c.connect(("127.0.0.1", int(sys.argv[2])))
print(c.getsockname()[1], flush=True)
c.sendall(sys.argv[3].encode()); c.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = c.recv(4096)
    if not b: break
    got += b
print(got.decode())
' "$@"
}

@test "forward --accept-proxy: haproxy send-proxy and send-proxy-v2; the header's client is the one logged and matched" {
	echo_target
	local i=0 v
	for v in send-proxy send-proxy-v2; do
		i=$((i + 1))
		forward_bg "fwd$i" -v --accept-proxy --deny 127.0.0.2 0 127.0.0.1 "$TPORT"
		haproxy_bg "hap$i" "" "$v" "$port"
		run client_from 127.0.0.3 "$HPORT" "via $v"
		assert_success
		assert_line --index 1 "via $v"
		# The -v line names the client as haproxy saw it, not haproxy.
		wait_file_contains "fwd$i.err" "127.0.0.3:${lines[0]} -> 127.0.0.1:$TPORT: up"
		# --deny matches the header's address: 127.0.0.2 is refused
		# although haproxy connects from 127.0.0.1.
		run client_from 127.0.0.2 "$HPORT" "denied"
		refute_line --index 1 "denied"
		wait_file_contains "fwd$i.err" "refused 127.0.0.2:${lines[0]}: not allowed by --allow/--deny"
	done
}

@test "forward --send-proxy v1 and v2 into haproxy accept-proxy: haproxy logs the real client" {
	echo_target
	local v
	for v in v1 v2; do
		haproxy_bg "hap$v" accept-proxy "" "$TPORT"
		forward_bg "fwd$v" --send-proxy "$v" 0 127.0.0.1 "$HPORT"
		run client_from 127.0.0.4 "$port" "proxied $v"
		assert_success
		assert_line --index 1 "proxied $v"
		wait_file_contains "hap$v.out" "client 127.0.0.4:${lines[0]}"
	done
}

@test "forward --accept-proxy: no header, a malformed one, or none in time: closed with the reason" {
	echo_target -v
	forward_bg fwd --accept-proxy --handshake-timeout 1 0 127.0.0.1 "$TPORT"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"GET / HTTP/1.0"
	refute_output --partial GET
	wait_file_contains fwd.err "no PROXY protocol header"
	printf 'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\nhello\n' >bad
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <bad
	refute_output --partial hello
	wait_file_contains fwd.err "PROXY v1: bad port"
	# A client that says nothing: closed at the deadline.
	run timeout $T $PY -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("closed" if c.recv(100) == b"" else "data")
' "$port"
	assert_output closed
	wait_file_contains fwd.err "no PROXY protocol header within 1 s"
	run grep -c "connection from" tgt.err
	assert_output 0
	# A good header, then data: only the data reaches the target.
	printf 'PROXY TCP4 192.0.2.9 127.0.0.1 4242 80\r\npayload\n' >good
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <good
	assert_output payload
}

@test "forward -i 1: a connection without data for a second is ended, the -v line says so" {
	echo_target
	forward_bg fwd -v -i 1 0 127.0.0.1 "$TPORT"
	run timeout $T $PY -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"x"); assert c.recv(10) == b"x"
try:
    print("closed" if c.recv(10) == b"" else "data")
except ConnectionResetError:
    print("reset")
' "$port"
	assert_success
	assert_output reset
	wait_file_contains fwd.err "up 1 bytes, down 1 bytes in"
	grep -q "idle timeout: no data for 1 s" fwd.err
}
