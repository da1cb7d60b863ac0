#!/usr/bin/env bats
# connect -z beyond the basics: the connect scan never mistakes a
# self-connection for an open port, and the half-open scan (--syn) over a
# raw socket reports open, closed and silent ports without ever completing
# a connection.
# sockctl: per-backend
load helpers

# A listener whose accept queue is full: the kernel drops further SYNs, as
# a filtering firewall would. Its port is in $full_port.
full_listener() {
	start_bg full "$PY" -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
keep = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    keep.append(c)
time.sleep(0.3)
print(s.getsockname()[1], flush=True)
time.sleep(600)
'
	local i
	for ((i = 0; i < 1000; i++)); do
		[[ -s $BATS_TEST_TMPDIR/full.out ]] && break
		sleep 0.01
	done
	full_port=$(head -1 "$BATS_TEST_TMPDIR/full.out")
}

need_raw() {
	run timeout "$T" "$SOCKCTL" connect -z --syn 127.0.0.1 1
	if [[ $output == *CAP_NET_RAW* ]]; then
		skip "raw sockets are not permitted here (needs root or CAP_NET_RAW)"
	fi
}

# in_netns SCRIPT: runs the bash SCRIPT in a network namespace of its own
# with loopback up, so that a scan of a whole port range meets only the
# listeners the script starts (and never another test's, which may run at
# the same time). SOCKCTL is in its environment.
in_netns() {
	unshare -rn true 2>/dev/null ||
		skip "user/network namespaces are unavailable here (unshare -rn failed)"
	printf 'set -e\nip link set lo up\ncd "%s"\n%s\n' "$BATS_TEST_TMPDIR" "$1" >"$BATS_TEST_TMPDIR/ns.sh"
	run timeout "$T" unshare -rn env SOCKCTL="$SOCKCTL" bash "$BATS_TEST_TMPDIR/ns.sh"
}

# Shell text for in_netns: starts `sockctl serve -k --echo` as NAME and
# sets $NAME to its port.
NS_SERVE='ns_serve() {
	: >"$1.err"
	"$SOCKCTL" serve -k --echo 127.0.0.1 0 2>"$1.err" &
	for i in $(seq 1000); do
		grep -q "listening on" "$1.err" && break
		sleep 0.01
	done
	eval "$1=$(sed -n "s/.*listening on 127.0.0.1:\([0-9]*\) .*/\1/p" "$1.err")"
}
trap "kill \$(jobs -p) 2>/dev/null" EXIT
range=$(cat /proc/sys/net/ipv4/ip_local_port_range)
lo=${range%%[[:space:]]*}
hi=${range##*[[:space:]]}
'

@test "connect -z over the ephemeral range finds exactly the listeners there" {
	# A connect to a port of the ephemeral range may be given that very
	# port as its source and connect to itself, or two scan sockets may
	# meet: neither is an open port.
	in_netns "$NS_SERVE"'
ns_serve a
for run in 1 2 3; do
	out=$(timeout 20 "$SOCKCTL" connect -z --open 127.0.0.1 "$lo-$hi") || true
	[ "$out" = "127.0.0.1 $a open" ] || { echo "scan $run found: $out"; exit 1; }
done
echo scanned'
	assert_success
	assert_output "scanned"
}

@test "connect -z --syn: open, closed and silent ports, in order, text and JSON" {
	need_raw
	serve_bg srv --echo -k 127.0.0.1 0
	local open=$port closed
	closed=$(free_port)
	full_listener
	run timeout "$T" "$SOCKCTL" connect -z --syn -w 1 127.0.0.1 "$closed,$open,$full_port"
	assert_success
	assert_output "127.0.0.1 $closed closed
127.0.0.1 $open open
127.0.0.1 $full_port timeout"
	run timeout "$T" "$SOCKCTL" connect -z --syn --json 127.0.0.1 "$closed"
	assert_failure 1
	assert_output "{\"host\":\"127.0.0.1\",\"address\":\"127.0.0.1\",\"port\":$closed,\"state\":\"closed\"}"
}

@test "connect -z --syn: the scanned server never sees a connection" {
	need_raw
	serve_bg srv -v -k --echo 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" connect -z --syn 127.0.0.1 "$port"
	assert_success
	assert_output "127.0.0.1 $port open"
	# A real connection afterwards must be the first the server logs.
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"hello"
	assert_output "hello"
	wait_file_contains "$BATS_TEST_TMPDIR/srv.err" "connection from"
	run grep -c "connection from" "$BATS_TEST_TMPDIR/srv.err"
	assert_output 1
}

@test "connect -z --syn: all 65535 ports agree with the connect scan, IPv6 too" {
	need_raw
	in_netns "$NS_SERVE"'
ns_serve a
ns_serve b
want=$(printf "127.0.0.1 %s open\n" $(printf "%s\n" "$a" "$b" | sort -n))
syn=$(timeout 20 "$SOCKCTL" connect -z --syn --open 127.0.0.1 1-65535)
[ "$syn" = "$want" ] || { echo "--syn found: $syn"; exit 1; }
con=$(timeout 20 "$SOCKCTL" connect -z --open 127.0.0.1 1-65535)
[ "$con" = "$want" ] || { echo "connect found: $con"; exit 1; }
echo agreed'
	[[ $output == *"raw socket"* ]] && skip "no raw sockets in a user namespace here"
	assert_success
	assert_output "agreed"
	"$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1",0))' 2>/dev/null ||
		skip "no IPv6 loopback here"
	serve_bg v6 -k --echo ::1 0
	run timeout "$T" "$SOCKCTL" connect -z --syn ::1 "$port,$(free_port)"
	assert_success
	assert_line --index 0 "::1 $port open"
	assert_line --index 1 --regexp '^::1 [0-9]+ closed$'
}

@test "connect --syn without -z is a usage error" {
	run timeout "$T" "$SOCKCTL" connect --syn 127.0.0.1 1
	assert_failure 2
	assert_output --partial "go with -z"
}
