#!/usr/bin/env bats
# Dialogues with deadlines: connect --send/--expect/--script and serve
# --script, every step type and failure mode, over TCP, UDP, Unix, a
# SOCKS5 proxy and TLS, against real peers (redis-server, nc, socat,
# curl) and against each other (a scripted SMTP exchange).
# sockctl: per-backend
load helpers

setup_file() {
	export PKI=$BATS_FILE_TMPDIR/pki
	# shellcheck source=tests/tls_pki.bash
	source "$BATS_TEST_DIRNAME/tls_pki.bash"
	# A build without OpenSSL refuses --tls: no PKI, and the TLS test skips.
	if ! "$SOCKCTL" connect --tls --help 2>&1 | grep -q "this build has no TLS"; then
		(make_test_pki "$PKI")
	fi
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# script NAME: the script on stdin into NAME.
script() {
	cat >"$BATS_TEST_TMPDIR/$1"
}

# talker NAME TEXT: serve -k sending TEXT (a script's send argument) to
# each client and keeping the connection until the client closes.
talker() {
	printf 'send %s\nexpect-eof\n' "$2" >"$BATS_TEST_TMPDIR/$1.sc"
	serve_bg "$1" -k --expect-timeout 60 --script "$BATS_TEST_TMPDIR/$1.sc"
}

# dial ARGS...: `sockctl connect ARGS 127.0.0.1 $port` under timeout.
dial() {
	timeout $T "$SOCKCTL" connect "$@" 127.0.0.1 "$port"
}

@test "connect --send/--expect: one dialogue in command-line order, exit 0 when every expect matched" {
	serve_bg srv -k --echo
	run -0 dial --send 'one\n' --expect '^one$' --send 'two\n' --expect '^two$'
	assert_output ""
	# --script - reads the steps from stdin (the dialogue does not read it),
	# between the command line's steps before and after it.
	printf 'send b\\n\n' >b.sc
	run -0 bash -c "timeout $T '$SOCKCTL' connect -v --send 'a\\n' --script - --send 'c\\n' --expect '^a\\nb\\nc\$' 127.0.0.1 $port <b.sc"
	assert_line "> a\\n"
	assert_line "> b\\n"
	assert_line "> c\\n"
	# The second expect cannot match what the first consumed.
	run -3 dial --expect-timeout 0.3 --send 'x\n' --expect x --expect x
	assert_output --partial "step 3 (--expect x): no match within 0.3 s"
}

@test "expect: a match across several TCP segments, NUL bytes and all; -v marks both directions" {
	script srv.sc <<-'EOF'
		expect ^PING\r\n
		send +PO
		sleep 300
		send NG\x00 and\r\n
		sleep 300
		send the rest\r\n
	EOF
	serve_bg srv --script srv.sc
	run -0 dial -v --send 'PING\r\n' --expect '^\+PONG[^a-z] and\r$' --expect rest
	assert_line "> PING\\r\\n"
	assert_line "< +PO"
	assert_line "< NG\\x00 and\\r\\n"
	assert_line "< the rest\\r\\n"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
}

@test "expect timeout: exit 3, one line with the step, the deadline and the last bytes received, escaped" {
	talker srv '"nope\r\n\x01\xff\"\\"'
	script c.sc <<-'EOF'
		# wait for a greeting that never comes
		timeout 0.4
		expect ^220
	EOF
	run -3 timeout $T "$SOCKCTL" connect --script c.sc 127.0.0.1 "$port"
	assert_output "sockctl: c.sc: line 3 (expect ^220): no match within 0.4 s; the last 10 bytes received: \"nope\\r\\n\\x01\\xff\\\"\\\\\""
	# Only the last 200 bytes are shown.
	talker big "$(printf 'x%.0s' {1..300})END"
	run -3 dial --expect-timeout 0.2 --expect never
	assert_output --partial "the last 200 bytes received: \"$(printf 'x%.0s' {1..197})END\""
	[[ $output != *$(printf 'x%.0s' {1..198})* ]]
}

@test "the peer closes before an expect matched: exit 4 and the diagnostic" {
	serve_bg srv --respond 'bye\n'
	run -4 dial --expect bye --expect '^more'
	assert_output "sockctl: step 2 (--expect ^more): the peer closed first; the last 4 bytes received: \"bye\\n\""
	printf 'sleep 100\n' >quiet.sc
	serve_bg srv2 --script quiet.sc
	run -4 dial --expect anything
	assert_output --partial "the peer closed first; nothing received"
}

@test "expect-eof: matches the peer's end; times out (exit 3) while the peer keeps the connection" {
	script eof.sc <<-'EOF'
		expect hello
		expect-eof
	EOF
	serve_bg srv --respond 'hello\n'
	run -0 timeout $T "$SOCKCTL" connect --script eof.sc 127.0.0.1 "$port"
	serve_bg srv2 -k --echo
	run -3 timeout $T "$SOCKCTL" connect --expect-timeout 0.3 --script eof.sc --send 'hello\n' 127.0.0.1 "$port"
	assert_output --partial "line 1 (expect hello): no match within 0.3 s"
	script eof2.sc <<-'EOF'
		send hello\n
		expect hello
		expect-eof
	EOF
	run -3 timeout $T "$SOCKCTL" connect --expect-timeout 0.3 --script eof2.sc 127.0.0.1 "$port"
	assert_output "sockctl: eof2.sc: line 3 (expect-eof): no match within 0.3 s; the last 6 bytes received: \"hello\\n\""
}

@test "sleep pauses the dialogue; --json has the transcript with the times" {
	serve_bg srv -k --echo
	script s.sc <<-'EOF'
		send a\n
		expect ^a
		sleep 400
		send b\n
		expect ^b
	EOF
	run -0 timeout $T "$SOCKCTL" connect --json --script s.sc 127.0.0.1 "$port"
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["status"] == "ok" and d["exit"] == 0 and d["step"] is None, d
t = d["transcript"]
assert [(e["dir"], e["data"]) for e in t] == [("sent", "a\n"), ("received", "a\n"), ("sent", "b\n"), ("received", "b\n")], t
assert t[2]["ms"] - t[1]["ms"] >= 390, t
assert d["sent"] == 4 and d["received"] == 4, d
' "$output"
}

@test "capture: a value from the reply in later sends (\$NAME, \${NAME}); --json lists the captures" {
	script srv.sc <<-'EOF'
		send session id=4711; welcome\n
		expect ^login 4711 as 4711x\n
		send ok\n
	EOF
	script c.sc <<-'EOF'
		capture ID id=([0-9]+);
		capture REST "welcome.*"
		send login $ID as ${ID}x\n
		expect ^ok
	EOF
	serve_bg srv --script srv.sc
	run -0 timeout $T "$SOCKCTL" connect --json --script c.sc 127.0.0.1 "$port"
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["captures"] == {"ID": "4711", "REST": "welcome"}, d
assert d["transcript"][1]["data"] == "login 4711 as 4711x\n", d
' "$output"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
}

@test "-C: every newline of a send goes out as CRLF, on both sides" {
	script srv.sc <<-'EOF'
		expect ^HELO x\r\nNOOP\r\n$
		send 250 ok\n
	EOF
	serve_bg srv -C --script srv.sc
	run -0 dial -C -v --send 'HELO x\nNOOP\n' --expect '^250 ok\r$'
	assert_line "> HELO x\\r\\n"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
}

@test "UDP (-u): each send is one datagram, each reply read as one" {
	serve_bg srv -u --echo
	run -0 dial -u -v --send 'one' --send 'two' --expect '^onetwo$'
	assert_line "> one"
	assert_line "> two"
	assert_line "< one"
	assert_line "< two"
	# A port that answers with ICMP: the failure, not a hang.
	port=$(free_port)
	run -1 dial -u --send 'x' --expect y
	assert_output --partial "recv: Connection refused"
}

@test "Unix sockets: serve --script and connect --script over -U" {
	script srv.sc <<-'EOF'
		send hello unix\n
		expect ^bye
	EOF
	serve_bg srv -U "$BATS_TEST_TMPDIR/s.sock" --script srv.sc
	run -0 timeout $T "$SOCKCTL" connect -U "$BATS_TEST_TMPDIR/s.sock" --expect '^hello unix$' --send 'bye\n'
	wait_exit "$srv_pid"
	assert_equal "$status" 0
}

@test "--proxy: the dialogue runs through a SOCKS5 tunnel (microsocks)" {
	command -v microsocks >/dev/null || skip "microsocks is not installed (build-aux/install-deps.sh)"
	serve_bg srv -k --echo
	local sp i
	sp=$(free_port)
	start_bg sproxy microsocks -i 127.0.0.1 -p "$sp"
	for i in $(seq 200); do
		"$SOCKCTL" connect -z --open 127.0.0.1 "$sp" | grep -q open && break
		sleep 0.05
	done
	run -0 dial --proxy "127.0.0.1:$sp" --proxy-type socks5 --send 'through\n' --expect '^through$'
}

@test "--tls: connect's dialogue after the handshake against serve --tls --script (test CA), an SMTP-like exchange" {
	[[ -f $PKI/root.pem ]] || skip "built without OpenSSL"
	script srv.sc <<-'EOF'
		send 220 tls.example ESMTP\r\n
		expect ^EHLO [a-z]+\r\n
		send 250 tls.example\r\n
		on ^QUIT\r\n send 221 bye\r\n
	EOF
	serve_bg srv --tls --cert "$PKI/good-chain.pem" --key "$PKI/good.key" --script srv.sc
	run -0 timeout $T "$SOCKCTL" connect --tls --cacert "$PKI/root.pem" --expect '^220 ' \
		--send 'EHLO me\r\n' --expect '^250 ' --send 'QUIT\r\n' --expect '^221 bye' localhost "$port"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
	# A certificate that does not verify fails before the dialogue.
	serve_bg srv2 --tls --cert "$PKI/good-chain.pem" --key "$PKI/good.key" --script srv.sc
	run -60 timeout $T "$SOCKCTL" connect --tls --expect '^220 ' localhost "$port"
}

@test "--starttls smtp: the dialogue starts once TLS is up (a scripted mail server)" {
	[[ -f $PKI/root.pem ]] || skip "built without OpenSSL"
	start_bg mx "$PY" "$BATS_TEST_DIRNAME/starttls_peer.py" smtp "$PKI/good-chain.pem" "$PKI/good.key"
	wait_ready mx
	run -0 timeout $T "$SOCKCTL" connect --starttls smtp --cacert "$PKI/root.pem" -v \
		--send 'hello over tls\n' --expect '^HELLO OVER TLS$' localhost "$port"
	assert_line "> hello over tls\\n"
	assert_line "< HELLO OVER TLS\\n"
}

@test "redis-server: PING -> +PONG, SET and GET, over its Unix socket" {
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	local dir=$BATS_TEST_TMPDIR/redis
	mkdir -p "$dir"
	cat >"$dir/redis.conf" <<-EOF
		port 0
		unixsocket $dir/redis.sock
		dir $dir
		save ""
		appendonly no
		daemonize no
	EOF
	start_bg redis redis-server "$dir/redis.conf"
	local i
	for i in $(seq 500); do [[ -S $dir/redis.sock ]] && break; sleep 0.02; done
	[[ -S $dir/redis.sock ]] || fail "redis-server did not start: $(cat redis.out)"
	run -0 timeout $T "$SOCKCTL" connect -U "$dir/redis.sock" --send 'PING\r\n' --expect '^\+PONG\r$'
	script r.sc <<-'EOF'
		send SET greeting "hello world"\r\n
		expect ^\+OK\r$
		send GET greeting\r\n
		expect ^\$11\r\nhello world\r$
		send INCR n\r\nINCR n\r\n
		capture N "^:([0-9]+)\r\n:2\r\n"
		send GET nothere\r\n
		expect ^\$-1\r$
	EOF
	run -0 timeout $T "$SOCKCTL" connect --json --script r.sc -U "$dir/redis.sock"
	"$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["captures"] == {"N": "1"}, d' "$output"
	run -3 timeout $T "$SOCKCTL" connect --expect-timeout 0.3 --send 'PING\r\n' --expect '^PONG' -U "$dir/redis.sock"
	assert_output --partial "the last 7 bytes received: \"+PONG\\r\\n\""
}

@test "an SMTP dialogue between serve --script and connect --script" {
	script smtpd.sc <<-'EOF'
		# the server: a greeting, then a reply per command
		send 220 mock.example ESMTP\r\n
		expect "^(EHLO|HELO) [^\r]+\r\n"
		send 250-mock.example\r\n250 8BITMIME\r\n
		on "^MAIL FROM:<[^>]*>\r\n" send 250 sender ok\r\n
		on "^RCPT TO:<[^>]*>\r\n" send 250 rcpt ok\r\n
		on ^DATA\r\n send 354 go ahead\r\n
		on \r\n\.\r\n send 250 queued as 42\r\n
		on ^QUIT\r\n send 221 bye\r\n
	EOF
	script smtp.sc <<-'EOF'
		expect ^220
		send EHLO client.example\n
		expect "^250 "
		send MAIL FROM:<a@example.org>\n
		expect ^250
		send RCPT TO:<b@example.org>\n
		expect ^250
		send DATA\n
		expect ^354
		send Subject: test\n\nhello\n.\n
		capture QID "^250 queued as ([0-9]+)"
		send QUIT\n
		expect ^221
	EOF
	serve_bg srv -C --script smtpd.sc
	run -0 timeout $T "$SOCKCTL" connect -C --json --script smtp.sc 127.0.0.1 "$port"
	"$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["captures"]["QID"] == "42", d' "$output"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
}

@test "serve --script -k: many clients at once, each with its own dialogue; a deviating one is logged" {
	script srv.sc <<-'EOF'
		send hi\n
		capture NAME "^name ([a-z]+)\n"
		sleep 1000
		send hello $NAME\n
		expect ^bye\n
	EOF
	serve_bg srv -k --expect-timeout 3 --script srv.sc
	local i pids=()
	for i in a b c d e; do
		timeout $T "$SOCKCTL" connect --expect '^hi' --send "name $i$i\\n" --expect "^hello $i$i\$" \
			--send 'bye\n' 127.0.0.1 "$port" >"c$i.out" 2>&1 &
		pids+=($!)
	done
	local t0=$SECONDS
	for i in "${pids[@]}"; do wait "$i"; done
	# Concurrent: five sleeps of 1 s did not add up.
	((SECONDS - t0 < 4))
	run -3 dial --expect-timeout 0.3 --expect '^hi' --send 'wrong\n' --expect never
	wait_file_contains srv.err 'line 2 (capture NAME "^name ([a-z]+)\n"): the peer closed first; the last 6 bytes received: "wrong\n"'
}

@test "serve --script without -k: the client's deviation is the exit status (3, 4)" {
	script srv.sc <<-'EOF'
		expect ^HELLO\n
		send welcome\n
	EOF
	serve_bg srv --expect-timeout 0.3 --script srv.sc
	run -4 dial --send 'hey\n' --expect welcome
	wait_exit "$srv_pid"
	assert_equal "$status" 3
	grep -F 'sockctl: 127.0.0.1:' srv.err | grep -F 'line 1 (expect ^HELLO\n): no match within 0.3 s; the last 4 bytes received: "hey\n"'
	serve_bg srv2 --script srv.sc
	run -0 bash -c "printf 'HEL' | timeout $T nc -q0 127.0.0.1 $port"
	wait_exit "$srv2_pid"
	assert_equal "$status" 4
	grep -F 'line 1 (expect ^HELLO\n): the peer closed first; the last 3 bytes received: "HEL"' srv2.err
}

@test "serve --script driven by nc, socat and curl (an HTTP mock)" {
	script redis.sc <<-'EOF'
		on PING\r?\n send +PONG\r\n
	EOF
	serve_bg srv -k --script redis.sc
	run -0 bash -c "printf 'PING\r\nPING\r\n' | timeout $T nc -q1 127.0.0.1 $port"
	assert_output "$(printf '+PONG\r\n+PONG\r')"
	command -v socat >/dev/null || skip "socat is not installed"
	run -0 bash -c "printf 'PING\n' | timeout $T socat -t1 - TCP:127.0.0.1:$port"
	assert_output "$(printf '+PONG\r')"
	script http.sc <<-'EOF'
		expect "^GET /hello HTTP/1\.1\r\n([^\r\n]+\r\n)*\r\n"
		send HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n
	EOF
	serve_bg web -k --script http.sc
	run -0 timeout $T curl -sS "http://127.0.0.1:$port/hello"
	assert_output "hello"
	run -0 timeout $T curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/hello"
	assert_output "200"
}

@test "-v echoes the dialogue; --json prints one object also on failure" {
	talker srv 'ERR\r\n'
	run -3 bash -c "timeout $T '$SOCKCTL' connect --json --expect-timeout 0.2 --send 'PING\r\n' --expect PONG 127.0.0.1 $port 2>err.txt"
	local json=$output
	run cat err.txt
	assert_output "sockctl: step 2 (--expect PONG): no match within 0.2 s; the last 5 bytes received: \"ERR\r\n\""
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["status"] == "timeout" and d["exit"] == 3, d
assert d["step"] == {"index": 2, "line": 0, "op": "expect", "arg": "PONG", "deadline_ms": 200}, d
got = [e["data"] for e in d["transcript"] if e["dir"] == "received"]
sent = [e["data"] for e in d["transcript"] if e["dir"] == "sent"]
assert got == ["ERR\r\n"] and sent == ["PING\r\n"], d
assert "no match within 0.2 s" in d["message"], d
' "$json"
	run -3 dial -v --expect-timeout 0.2 --send 'PING\r\n' --expect PONG
	assert_line "> PING\\r\\n"
	assert_line "< ERR\\r\\n"
	assert_line --partial "sockctl: connected to 127.0.0.1:$port"
}

@test "--then-relay: after the dialogue, the relay; what came after the last match comes first" {
	script srv.sc <<-'EOF'
		send banner\nmotd line\n
		expect ^hello relay\n
		send got it\n
	EOF
	serve_bg srv --script srv.sc
	run -0 bash -c "echo 'hello relay' | timeout $T '$SOCKCTL' connect --expect '^banner\\n' --then-relay 127.0.0.1 $port"
	assert_output "$(printf 'motd line\ngot it')"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
	# A dialogue that fails does not go on to the relay.
	serve_bg srv2 -k --echo
	run -3 bash -c "echo 'not sent' | timeout $T '$SOCKCTL' connect --expect-timeout 0.2 --expect nothing --then-relay 127.0.0.1 $port"
	assert_output --partial "no match within 0.2 s; nothing received"
	run -2 "$SOCKCTL" connect --then-relay 127.0.0.1 "$port"
	assert_output --partial "--then-relay goes with --send, --expect or --script"
	run -2 "$SOCKCTL" connect --then-relay --json --expect x 127.0.0.1 "$port"
	assert_output --partial "--then-relay relays stdin and stdout: no --json"
	# The relay's options are allowed with it.
	run -0 bash -c "echo abc | timeout $T '$SOCKCTL' connect -q 1 --send 'x\\n' --expect '^x\\n' --then-relay 127.0.0.1 $port"
	assert_output "abc"
}

@test "bad scripts and options: the line number, one line, exit 2" {
	local -A cases=(
		["frob x"]="line 2: unknown step 'frob' (give send, expect, expect-eof, sleep, timeout, capture)"
		["expect (a"]="line 2: bad expect regex '(a': Unmatched ( or \\("
		["send \\q"]="line 2: unknown escape '\\q' at offset 0"
		['send "abc']="line 2: unterminated quote in send"
		['send $X']="line 2: \$X is not captured by an earlier step"
		["sleep soon"]="line 2: invalid sleep 'soon': give milliseconds, 0-3600000"
		["on x send y"]="line 2: 'on' rules are for serve --script"
	)
	local body
	for body in "${!cases[@]}"; do
		printf '# comment\n%s\n' "$body" >bad.sc
		run -2 "$SOCKCTL" connect --script bad.sc 127.0.0.1 1
		assert_output "sockctl connect: --script bad.sc: ${cases[$body]} (see 'sockctl connect --help')"
	done
	printf 'on (x send y\n' >bad.sc
	run -2 "$SOCKCTL" serve --script bad.sc 0
	assert_output "sockctl serve: --script bad.sc: line 1: bad on regex '(x': Unmatched ( or \\( (see 'sockctl serve --help')"
	run -1 "$SOCKCTL" connect --script nothere.sc 127.0.0.1 1
	assert_output "sockctl: --script nothere.sc: No such file or directory"
	run -2 "$SOCKCTL" connect --expect '[' 127.0.0.1 1
	assert_output --partial "sockctl connect: --expect: bad --expect regex '['"
	run -2 "$SOCKCTL" connect --send 'a\' 127.0.0.1 1
	assert_output --partial "a backslash at the end"
}

@test "a line that comes in pieces: \$ waits for its end, so a capture takes the whole number" {
	serve_bg srv -k --sh-exec "printf 'id: 12'; sleep 0.3; printf '34\\n'; cat >/dev/null"
	script c.sc <<-'EOF2'
		capture ID ^id: ([0-9]+)$
		send got $ID\n
	EOF2
	run -0 dial -v --script c.sc
	assert_line "> got 1234\\n"
}

@test "serve --script -i: a client that sends nothing while the rules answer is closed after -i" {
	script srv.sc <<-'EOF2'
		on ^PING\r?$ send +PONG\r\n
	EOF2
	serve_bg srv -k -i 0.5 --script srv.sc
	local t0=$EPOCHREALTIME
	# The client says nothing and keeps its side open: the server ends it.
	run -0 timeout $T "$SOCKCTL" connect --recv-only 127.0.0.1 "$port" </dev/null
	"$PY" -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert 0.4 <= d < 8, d' \
		"$t0" "$EPOCHREALTIME"
	# One that talks is answered as before.
	run -0 dial --send 'PING\r\n' --expect '^\+PONG\r$'
}

@test "serve --script rules: a client that sends and never reads holds the server's memory bounded" {
	local big
	big=$(head -c 8000 /dev/zero | tr '\0' x)
	printf 'on ^PING$ send %s\\n\n' "$big" >"$BATS_TEST_TMPDIR/srv.sc"
	serve_bg srv -k --script srv.sc
	# 40,000 PINGs would ask for 320 MB of answers; the client reads none.
	run timeout $T "$PY" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
end, sent = time.monotonic() + 3, 0
while time.monotonic() < end and sent < 40000 * 5:
    try:
        sent += s.send(b"PING\n" * 1000)
    except BlockingIOError:
        time.sleep(0.01)
print(sent)
time.sleep(0.5)
' "$port"
	assert_success
	local rss
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$srv_pid/status")
	((rss < 65536)) || fail "the server holds $rss kB"
}
