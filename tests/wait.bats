#!/usr/bin/env bats
# sockctl wait: TCP ports that open late or never, Unix sockets, HTTP
# against http serve, a scripted peer and nginx, https and tls:// against
# http serve --tls with the test CA, UDP against serve -u, the command run
# once ready, --json, -v, 100 targets at once, and bad input.
# sockctl: per-backend
load helpers
load nginx
load tls_pki

setup_file() {
	pki_setup_file
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www"
	printf 'hello\n' >"$www/index.html"
}

w() {
	timeout "$T" "$SOCKCTL" wait "$@"
}

# wait_bg NAME ARGS...: sockctl wait ARGS in the background (-v: its
# attempts in NAME.err).
wait_bg() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" wait "$@"
}

# attempts_seen NAME N: NAME.err holds N attempt lines.
attempts_seen() {
	local f=$BATS_TEST_TMPDIR/$1.err i
	for ((i = 0; i < T * 100; i++)); do
		(($(grep -c ': attempt ' "$f" 2>/dev/null) >= $2)) && return 0
		sleep 0.01
	done
	echo "fewer than $2 attempts in $f:" >&2
	cat "$f" >&2
	return 1
}

now() {
	date +%s.%N
}

# The "at S s" of the last -v line of FILE that matches PATTERN.
at_of() {
	grep -E -- "$2" "$1" | tail -n 1 | sed -E 's/.* at ([0-9.]+) s\)$/\1/'
}

@test "a port that opens late: ready within one pause of it opening" {
	p=$(free_port)
	wait_bg wt -v -i 0.1 --max-interval 0.2 -t 20 "127.0.0.1:$p"
	attempts_seen wt 3
	serve_bg srv -k --discard 127.0.0.1 "$p"
	opened=$(now)
	wait_exit "$wt_pid"
	done_at=$(now)
	[[ $status == 0 ]] || fail "exit $status: $(cat wt.err)"
	grep -q "127.0.0.1:$p: attempt [0-9]*: ready, 127.0.0.1:$p " wt.err
	grep -q "connect 127.0.0.1:$p: Connection refused" wt.err
	# The ready attempt came at most one pause (0.2 s) after the last
	# refused one; a busy machine gets 0.8 s more.
	ready=$(at_of wt.err ': ready, ')
	refused=$(at_of wt.err 'Connection refused')
	awk -v a="$ready" -v b="$refused" 'BEGIN { exit !(a - b < 1.0) }' ||
		fail "ready at $ready s, last refused at $refused s"
	awk -v a="$done_at" -v b="$opened" 'BEGIN { exit !(a - b < 3) }' ||
		fail "exited $(awk -v a="$done_at" -v b="$opened" 'BEGIN { print a - b }') s after the port opened"
}

@test "a port that never opens: exit 1 after --timeout, one line naming it and why" {
	p=$(free_port)
	t0=$(now)
	run --separate-stderr w -t 1 -i 0.1 "127.0.0.1:$p"
	t1=$(now)
	assert_failure 1
	assert_output ""
	[[ ${#stderr_lines[@]} == 1 ]] || fail "stderr: $stderr"
	[[ $stderr =~ ^sockctl:\ 127\.0\.0\.1:$p:\ not\ ready\ after\ 1\ s\ \([0-9]+\ attempts\):\ connect\ 127\.0\.0\.1:$p:\ Connection\ refused$ ]] ||
		fail "stderr: $stderr"
	awk -v a="$t1" -v b="$t0" 'BEGIN { exit !(a - b >= 0.95 && a - b < 5) }' ||
		fail "took $(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }') s"
	# -q: the status alone.
	run --separate-stderr w -q -t 0.3 "127.0.0.1:$p"
	assert_failure 1
	[[ -z $stderr && -z $output ]]
}

@test "a connect that hangs is given up after --attempt-timeout, and tried again" {
	# A listener whose accept queue is full drops SYNs, as a filtered
	# port does: the connect neither succeeds nor is refused.
	start_bg full "$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
keep = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(s.getsockname())
    except BlockingIOError:
        pass
    keep.append(c)
time.sleep(0.3)
sys.stderr.write("full: listening on 127.0.0.1:%d (tcp)\n" % s.getsockname()[1])
sys.stderr.flush()
time.sleep(60)'
	wait_ready full
	t0=$(now)
	run --separate-stderr w -v -t 1.5 -i 0.05 --max-interval 0.05 --attempt-timeout 0.3 "127.0.0.1:$port"
	t1=$(now)
	assert_failure 1
	[[ $stderr =~ not\ ready\ after\ 1.5\ s\ \(([0-9]+)\ attempts\):\ (.*)$ ]] || fail "stderr: $stderr"
	((BASH_REMATCH[1] >= 3)) || fail "only ${BASH_REMATCH[1]} attempts: $stderr"
	[[ ${BASH_REMATCH[2]} == *"timed out"* ]] || fail "stderr: $stderr"
	awk -v a="$t1" -v b="$t0" 'BEGIN { exit !(a - b < 5) }'
}

@test "several targets, one never opens: only that one is reported; --any is content with one" {
	serve_bg a -k --discard 127.0.0.1 0
	pa=$port
	serve_bg b -k --discard 127.0.0.1 0
	pb=$port
	p=$(free_port)
	run --separate-stderr w -t 1 "127.0.0.1:$pa" "localhost:$pb" "127.0.0.1:$p"
	assert_failure 1
	[[ ${#stderr_lines[@]} == 1 && $stderr == "sockctl: 127.0.0.1:$p: not ready after 1 s"* ]] ||
		fail "stderr: $stderr"
	t0=$(now)
	run --separate-stderr w -t 10 --any "127.0.0.1:$p" "127.0.0.1:$pa"
	t1=$(now)
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	awk -v a="$t1" -v b="$t0" 'BEGIN { exit !(a - b < 5) }'
	run --separate-stderr w -t 0.5 --any "127.0.0.1:$p" "[::1]:$p"
	assert_failure 1
	[[ ${#stderr_lines[@]} == 2 ]] || fail "stderr: $stderr"
}

@test "every address of a name is tried: localhost with only the IPv4 one listening" {
	serve_bg srv -k --discard 127.0.0.1 0
	run --separate-stderr w -v "localhost:$port"
	assert_success
	[[ $stderr == *"attempt 1: ready, 127.0.0.1:$port "* ]] || fail "stderr: $stderr"
	# [V6ADDR]:PORT, and -4 that leaves localhost only its IPv4 address.
	"$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
		skip "no IPv6 loopback here"
	serve_bg six -k --discard ::1 0
	run --separate-stderr w -v "[::1]:$port" "tcp://[::1]:$port"
	assert_success
	[[ $stderr == *"[::1]:$port: attempt 1: ready, [::1]:$port "* ]] || fail "stderr: $stderr"
	run --separate-stderr w -4 -q -t 0.3 "localhost:$port"
	assert_failure 1
}

@test "--server: names from that DNS server, on the loop: a 3 s answer holds up only its own target" {
	# The scripted server answers every query after 3 s (slow.test is
	# 127.0.0.1); nothing comes from /etc/hosts or the system's resolver.
	start_bg dns "$PY" "$BATS_TEST_DIRNAME/dns_peer.py" slow
	wait_ready dns
	dns=$addr
	serve_bg srv -k --discard 127.0.0.1 0
	run --separate-stderr w --json -v -t 20 --server "$dns" "slow.test:$port" "127.0.0.1:$port"
	assert_success
	[[ $stderr == *"127.0.0.1:$port: attempt 1: ready, 127.0.0.1:$port "* &&
		$stderr == *"slow.test:$port: attempt 1: ready, 127.0.0.1:$port "* ]] ||
		fail "stderr: $stderr"
	# The open port is ready at once (a busy machine gets 1.5 s), long
	# before the name's answer comes.
	"$PY" -c '
import json, sys
slow, fast = json.loads(sys.argv[1])["targets"]
assert slow["ready"] and fast["ready"], (slow, fast)
assert fast["seconds"] < 1.5, fast
assert slow["seconds"] >= 2.9, slow
' "$output" || fail "$output"
	# A server that never answers: the name is not ready, and says why.
	start_bg mute "$PY" "$BATS_TEST_DIRNAME/dns_peer.py" reflect
	wait_ready mute
	run --separate-stderr w -t 1 --server "$addr" "quiet.test:$port" "127.0.0.1:$port"
	assert_failure 1
	[[ ${#stderr_lines[@]} == 1 && $stderr == "sockctl: quiet.test:$port: not ready after 1 s"*"no address within"* ]] ||
		fail "stderr: $stderr"
}

@test "a system lookup slower than an attempt is asked once, and its answer used by a later attempt" {
	command -v "${CC:-cc}" >/dev/null || skip "no C compiler for the getaddrinfo() shim"
	# getaddrinfo for *.slow.test takes 2 s (each call noted in a file),
	# then answers 127.0.0.1: a resolver that is slow, not one that fails.
	cat >slowgai.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	size_t n = node ? strlen(node) : 0;
	if (n > 10 && strcmp(node + n - 10, ".slow.test") == 0) {
		int fd = open(getenv("SLOWGAI_LOG"), O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (fd >= 0) {
			if (write(fd, "call\n", 5) < 0)
				abort();
			close(fd);
		}
		sleep(2);
		node = "127.0.0.1";
	}
	return real(node, service, hints, res);
}
EOF
	"${CC:-cc}" -shared -fPIC -o slowgai.so slowgai.c -ldl || skip "cannot build the getaddrinfo() shim"
	LD_PRELOAD=$PWD/slowgai.so "$SOCKCTL" --version >/dev/null 2>&1 ||
		skip "the binary does not take an LD_PRELOAD shim (sanitizer build?)"
	serve_bg srv -k --discard 127.0.0.1 0
	export SLOWGAI_LOG=$PWD/gai.log
	run --separate-stderr timeout "$T" env LD_PRELOAD="$PWD/slowgai.so" "$SOCKCTL" wait -v \
		--attempt-timeout 0.3 -i 0.1 --max-interval 0.1 -t 15 "x.slow.test:$port"
	assert_success
	[[ $stderr == *"no address within"*"ready, 127.0.0.1:$port"* ]] || fail "stderr: $stderr"
	# Several attempts ran out while the one lookup went on.
	run wc -l <gai.log
	[[ $output -eq 1 ]] || fail "getaddrinfo called $output times"
}

@test "udp: every address of a name is tried: an IPv6 one without a route, then IPv4 (a network namespace)" {
	command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
	unshare -rn true 2>/dev/null ||
		skip "user/network namespaces are unavailable here (unshare -rn failed)"
	# In the namespace only lo is up: 2001:db8::1 has no route, so a
	# socket connected to it fails at once; the name's AAAA comes first.
	cat >ns.sh <<'EOF'
set -e
ip link set lo up
dnsmasq -k --user= --group= --conf-file=/dev/null --no-resolv --no-hosts \
	--listen-address=127.0.0.1 --bind-interfaces --port=5353 \
	--host-record=dual.test,127.0.0.1,2001:db8::1 >/dev/null 2>dns.err &
d=$!
"$1" serve -u --echo 127.0.0.1 0 >/dev/null 2>srv.err &
s=$!
trap 'kill $d $s 2>/dev/null' EXIT
for i in $(seq 500); do grep -q 'listening on' srv.err 2>/dev/null && break; sleep 0.01; done
line=$(grep 'listening on' srv.err)
port=${line##*:}
port=${port%% *}
set +e
timeout 10 "$1" wait -t 5 --server 127.0.0.1:5353 --send ping --expect ping "udp:dual.test:$port"
echo "status $?"
EOF
	run timeout "$T" unshare -rn bash ns.sh "$SOCKCTL"
	assert_output --partial "status 0"
}

@test "unix: a socket file that appears late, and an abstract name" {
	sock=$BATS_TEST_TMPDIR/s.sock
	wait_bg wt -v -i 0.1 --max-interval 0.2 "unix:$sock"
	attempts_seen wt 2
	serve_bg srv -k --discard -U "$sock"
	wait_exit "$wt_pid"
	[[ $status == 0 ]] || fail "exit $status: $(cat wt.err)"
	grep -q "unix:$sock: attempt [0-9]*: ready, " wt.err
	grep -q "No such file or directory" wt.err
	name=sockctl-wait-$$-$BATS_TEST_NUMBER
	serve_bg ab -k --discard -U "@$name"
	run -0 w "unix:@$name"
	run -1 w -q -t 0.3 "unix:@$name-not"
}

@test "http: 200 is ready, 404 is not unless --status lists it, 503 that turns 200" {
	start_bg hs "$SOCKCTL" http serve -d "$www" 127.0.0.1:0
	wait_ready hs
	run --separate-stderr w -v "http://127.0.0.1:$port/"
	assert_success
	[[ $stderr == *"attempt 1: ready, HTTP 200 OK"* ]] || fail "stderr: $stderr"
	run --separate-stderr w -t 0.6 -i 0.1 "http://127.0.0.1:$port/nope"
	assert_failure 1
	[[ $stderr == *"/nope: not ready after 0.6 s"*"HTTP 404 Not Found (not a ready status)" ]] ||
		fail "stderr: $stderr"
	run -0 w --status 200,404 "http://127.0.0.1:$port/nope"
	run -0 w --status 400-499 "http://127.0.0.1:$port/nope"
	run -1 w -q -t 0.5 --status 200 "http://127.0.0.1:$port/nope"
	# A file that appears: 404 until then.
	wait_bg wt -v -i 0.1 --max-interval 0.2 "http://127.0.0.1:$port/late.txt"
	attempts_seen wt 2
	echo here >"$www/late.txt"
	wait_exit "$wt_pid"
	[[ $status == 0 ]] || fail "exit $status: $(cat wt.err)"
	grep -q 'HTTP 404 Not Found (not a ready status)' wt.err
	grep -q 'ready, HTTP 200 OK' wt.err
}

@test "http: a scripted peer answers 503 until it is told to be up" {
	cat >peer.py <<-'EOF'
		import http.server, os, sys
		class H(http.server.BaseHTTPRequestHandler):
		    def do_GET(self):
		        up = os.path.exists("up")
		        body = b"ok\n" if up else b"starting\n"
		        self.send_response(200 if up else 503)
		        self.send_header("Content-Length", str(len(body)))
		        self.end_headers()
		        self.wfile.write(body)
		    def log_message(self, *a):
		        sys.stderr.write("request\n")
		s = http.server.HTTPServer(("127.0.0.1", 0), H)
		sys.stderr.write("peer: listening on 127.0.0.1:%d (tcp)\n" % s.server_address[1])
		sys.stderr.flush()
		s.serve_forever()
	EOF
	start_bg peer "$PY" peer.py
	wait_ready peer
	wait_bg wt -v -i 0.1 --max-interval 0.2 --json "http://127.0.0.1:$port/health"
	attempts_seen wt 2
	touch up
	wait_exit "$wt_pid"
	[[ $status == 0 ]] || fail "exit $status: $(cat wt.err)"
	grep -q 'HTTP 503 Service Unavailable (not a ready status)' wt.err
	"$PY" -c 'import json,sys; d=json.load(open("wt.out")); t=d["targets"][0]; assert d["ready"] and t["ready"] and t["attempts"] >= 3 and "503" in t["last_error"], d' ||
		fail "$(cat wt.out)"
}

# nginx_bg DIR: nginx serving DIR, where /down says 503; sets $port.
nginx_bg() {
	NGINX_SERVER='location = /down { return 503; }' nginx_start "$1"
}

@test "http against nginx: 200 ready, 404 and 503 not, unless --status" {
	nginx_bg "$www"
	run --separate-stderr w -v "http://127.0.0.1:$port/index.html"
	assert_success
	[[ $stderr == *"ready, HTTP 200 OK"* ]] || fail "stderr: $stderr"
	run --separate-stderr w -t 0.5 "http://127.0.0.1:$port/missing" "http://127.0.0.1:$port/down"
	assert_failure 1
	[[ ${#stderr_lines[@]} == 2 && $stderr == *"HTTP 404 Not Found"* && $stderr == *"HTTP 503 Service"* ]] ||
		fail "stderr: $stderr"
	run -0 w --status 404,503 "http://127.0.0.1:$port/missing" "http://127.0.0.1:$port/down"
	grep -q 'GET /down' "$BATS_TEST_TMPDIR/nginx-access.log"
}

@test "https and tls:// against http serve --tls: verified with --cacert, refused without, -k" {
	[[ $("$SOCKCTL" wait -k -t 0.1 tls://127.0.0.1:1 2>&1) == *"has no TLS"* ]] &&
		skip "this build has no TLS"
	start_bg hs "$SOCKCTL" http serve -d "$www" --tls --cert "$PKI/good-chain.pem" \
		--key "$PKI/good.key" 127.0.0.1:0
	wait_ready hs
	run --separate-stderr w -v --cacert "$PKI/root.pem" "https://localhost:$port/" "tls://localhost:$port"
	assert_success
	[[ $stderr == *"https://localhost:$port/: attempt 1: ready, HTTP 200 OK"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"tls://localhost:$port: attempt 1: ready, 127.0.0.1:$port, TLSv1."*", verified"* ]] ||
		fail "stderr: $stderr"
	# The system store does not know the test CA.
	run --separate-stderr w -t 0.5 "https://localhost:$port/" "tls://localhost:$port"
	assert_failure 1
	[[ ${#stderr_lines[@]} == 2 && $stderr == *"certificate verify failed"* ]] || fail "stderr: $stderr"
	run -0 w -k "https://127.0.0.1:$port/" "tls://127.0.0.1:$port"
	# A plain server is no TLS server.
	serve_bg plain -k --discard 127.0.0.1 0
	run --separate-stderr w -k -t 0.5 "tls://127.0.0.1:$port"
	assert_failure 1
	[[ $stderr == *"TLS with 127.0.0.1:$port"* ]] || fail "stderr: $stderr"
	# A CA file that cannot be loaded is said at once, as http get says it.
	run --separate-stderr w --cacert /nonexistent "https://127.0.0.1:$port/"
	assert_failure 77
	[[ ${#stderr_lines[@]} == 1 && $stderr == *"/nonexistent"* ]] || fail "stderr: $stderr"
}

@test "udp: --send and --expect against serve -u (echo and --respond), silence, unreachable" {
	serve_bg echo -u --echo 127.0.0.1 0
	run --separate-stderr w -v --send 'PING\x00\n' --expect '^PING' "udp:127.0.0.1:$port"
	assert_success
	[[ $stderr == *"ready, reply from 127.0.0.1:$port (6 bytes)"* ]] || fail "stderr: $stderr"
	run --separate-stderr w -t 0.4 --send 'PING' --expect '^PONG' "udp:127.0.0.1:$port"
	assert_failure 1
	[[ $stderr == *'the reply (4 bytes: "PING") does not match' ]] || fail "stderr: $stderr"
	serve_bg resp -u --respond 'PONG 1\n' 127.0.0.1 0
	# ^ and $ at line ends: the newline after the number does not spoil $.
	run -0 w -t 5 --send 'PING' --expect '^PONG [0-9]+$' "udp:127.0.0.1:$port"
	# --expect takes the escapes connect --expect takes; bytes shown escaped.
	run -0 w -t 5 --send 'PING' --expect '^PO\x4eG 1\n' "udp:127.0.0.1:$port"
	run --separate-stderr w -t 0.4 --send 'PING' --expect '^PANG' "udp:127.0.0.1:$port"
	assert_failure 1
	[[ $stderr == *'the reply (7 bytes: "PONG 1\n") does not match' ]] || fail "stderr: $stderr"
	run -2 w --send 'PING' --expect 'a+++' "udp:127.0.0.1:$port"
	assert_output --partial "a quantifier after a quantifier"
	# A peer that reads and never answers: each attempt ends at its limit.
	start_bg mute "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
sys.stderr.write("mute: listening on 127.0.0.1:%d (udp)\n" % s.getsockname()[1])
sys.stderr.flush()
while True:
    s.recv(100)'
	wait_ready mute
	run --separate-stderr w -t 1 -i 0.05 --max-interval 0.05 --attempt-timeout 0.2 --send x "udp:127.0.0.1:$port"
	assert_failure 1
	[[ $stderr =~ not\ ready\ after\ 1\ s\ \(([0-9]+)\ attempts\):\ udp\ 127\.0\.0\.1:$port:\ no\ reply\ within ]] ||
		fail "stderr: $stderr"
	((BASH_REMATCH[1] >= 3)) || fail "only ${BASH_REMATCH[1]} attempts: $stderr"
	p=$(free_port)
	run --separate-stderr w -t 0.3 --send x "udp:127.0.0.1:$p"
	assert_failure 1
	[[ $stderr == *"port unreachable" ]] || fail "stderr: $stderr"
}

@test "-- COMMAND: run once ready, its status and output passed on; not run when not ready" {
	serve_bg srv -k --discard 127.0.0.1 0
	run --separate-stderr w "127.0.0.1:$port" -- sh -c 'echo "ran $1"; exit 7' sh arg
	assert_failure 7
	assert_output "ran arg"
	# The command's own options are not ours.
	run -0 w "127.0.0.1:$port" -- echo -t -v --json
	assert_output "-t -v --json"
	run -143 w "127.0.0.1:$port" -- sh -c 'kill -TERM $$'
	run -127 --separate-stderr w "127.0.0.1:$port" -- ./no-such-program
	[[ $stderr == *"no-such-program: No such file or directory" ]] || fail "stderr: $stderr"
	p=$(free_port)
	run -1 w -q -t 0.3 "127.0.0.1:$p" -- touch ran
	[[ ! -e ran ]]
	# A SIGTERM for us goes to the command, whose status we then give.
	wait_bg wt "127.0.0.1:$port" -- "$PY" -c '
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))
open("started", "w").close()
time.sleep(30)'
	for ((i = 0; i < T * 100; i++)); do [[ -e started ]] && break; sleep 0.01; done
	[[ -e started ]]
	kill -TERM "$wt_pid"
	wait_exit "$wt_pid"
	[[ $status == 42 ]] || fail "exit $status"
}

@test "--json: one object with the run and every target" {
	serve_bg srv -k --discard 127.0.0.1 0
	p=$(free_port)
	run --separate-stderr w --json -t 0.5 -i 0.1 "127.0.0.1:$port" "127.0.0.1:$p" "unix:/nonexistent.sock"
	assert_failure 1
	[[ ${#stderr_lines[@]} == 2 ]] || fail "stderr: $stderr"
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert set(d) == {"ready", "seconds", "targets"}, d
assert d["ready"] is False and 0.45 < d["seconds"] < 5, d
a, b, u = d["targets"]
for t in d["targets"]:
    assert set(t) == {"target", "kind", "ready", "attempts", "seconds", "last_error"}, t
assert a == {"target": "127.0.0.1:'"$port"'", "kind": "tcp", "ready": True, "attempts": 1,
             "seconds": a["seconds"], "last_error": None}, a
assert a["seconds"] < 0.45, a
assert b["ready"] is False and b["attempts"] >= 2 and "Connection refused" in b["last_error"], b
assert u["kind"] == "unix" and "No such file" in u["last_error"], u
' "$output" || fail "$output"
	run -0 w --json "127.0.0.1:$port"
	"$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ready"] is True' "$output"
}

@test "-v: one line per attempt with the target, the attempt, the result and the times" {
	p=$(free_port)
	run --separate-stderr w -v -t 0.5 -i 0.1 --max-interval 0.1 "127.0.0.1:$p"
	assert_failure 1
	# Attempts 1, 2, 3, ... in order, then the verdict.
	n=0
	for line in "${stderr_lines[@]}"; do
		if [[ $line =~ ^sockctl:\ 127\.0\.0\.1:$p:\ attempt\ ([0-9]+):\ connect\ 127\.0\.0\.1:$p:\ Connection\ refused\ \(([0-9.]+)\ s,\ at\ ([0-9.]+)\ s\)$ ]]; then
			((BASH_REMATCH[1] == n + 1)) || fail "attempt ${BASH_REMATCH[1]} after $n"
			n=${BASH_REMATCH[1]}
		else
			[[ $line == *"not ready after"* ]] || fail "unexpected line: $line"
		fi
	done
	((n >= 3)) || fail "only $n attempts: $stderr"
}

@test "100 targets at once: all probed together, all ready soon after their ports open" {
	# One process holds 100 bound sockets that refuse connects, and
	# listens on them all when the file 'open' appears.
	cat >ports.py <<-'EOF'
		import os, socket, sys, time
		socks = []
		for i in range(100):
		    s = socket.socket()
		    s.bind(("127.0.0.1", 0))
		    socks.append(s)
		print(" ".join("127.0.0.1:%d" % s.getsockname()[1] for s in socks), flush=True)
		while not os.path.exists("open"):
		    time.sleep(0.01)
		for s in socks:
		    s.listen(16)
		sys.stderr.write("listening\n")
		sys.stderr.flush()
		time.sleep(60)
	EOF
	start_bg ports "$PY" ports.py
	wait_file_contains ports.out ":"
	read -ra targets <ports.out
	((${#targets[@]} == 100))
	t0=$(now)
	wait_bg wt -v -i 0.1 --max-interval 0.2 -t 30 "${targets[@]}"
	# Each target's first attempt, before any port opens: a waiter that
	# takes the targets one after another would try the second only once
	# the first is ready, and never get here.
	attempts_seen wt 100
	touch open
	wait_exit "$wt_pid"
	t1=$(now)
	[[ $status == 0 ]] || fail "exit $status: $(tail -5 wt.err)"
	(($(grep -c ': attempt 1: ' wt.err) == 100))
	(($(grep -c ': ready, ' wt.err) == 100))
	# Together: every first attempt ended at once (2 s leaves room for a
	# loaded machine), not one pause after another.
	late=$(grep ': attempt 1: ' wt.err | sed -E 's/.* at ([0-9.]+) s\)$/\1/' |
		awk '$1 > 2 { n++ } END { print n + 0 }')
	((late == 0)) || fail "$late first attempts after 2 s"
	awk -v a="$t1" -v b="$t0" 'BEGIN { exit !(a - b < 15) }'
}

@test "bad input: one line, exit 2" {
	rows=(
		"ftp://127.0.0.1:21|unknown scheme 'ftp'"
		"localhost|bad target 'localhost': missing port"
		"[::1]|missing port"
		"127.0.0.1:0|bad port '0'"
		"127.0.0.1:no-such-service|invalid port 'no-such-service'"
		"-t x 127.0.0.1:1|bad --timeout 'x'"
		"-t 0 127.0.0.1:1|bad --timeout '0'"
		"--interval -1 127.0.0.1:1|bad --interval '-1'"
		"--expect x 127.0.0.1:1|--expect is for udp: targets"
		"--send x 127.0.0.1:1|--send is for udp: targets"
		"udp:127.0.0.1:1|udp: targets need --send"
		"--send x --expect '(' udp:127.0.0.1:1|bad --expect '('"
		"--send '\\q' udp:127.0.0.1:1|bad --send"
		"--status 99 http://127.0.0.1:1/|bad --status '99'"
		"--tls tls://127.0.0.1:1|--tls: give tls:// or https:// targets"
		"127.0.0.1:1 --|no COMMAND after '--'"
		"--server 127.0.0.1:x 127.0.0.1:1|invalid server '127.0.0.1:x'"
		"|no TARGET given"
	)
	for row in "${rows[@]}"; do
		eval "run --separate-stderr timeout 5 \"\$SOCKCTL\" wait ${row%%|*} </dev/null"
		[[ $status == 2 && ${#stderr_lines[@]} == 1 && -z $output && $stderr == *"${row#*|}"* &&
			$stderr == *"(see 'sockctl wait --help')" ]] ||
			fail "wait ${row%%|*}: exit $status, stdout '$output', stderr: $stderr"
	done
}
