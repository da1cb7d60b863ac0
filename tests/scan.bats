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

@test "connect -z over the ephemeral range: every open port is a real listener" {
	# A connect to a port of the ephemeral range may be given that very
	# port as its source and connect to itself; such a port is closed.
	local range lo hi
	range=$(cat /proc/sys/net/ipv4/ip_local_port_range)
	lo=${range%%[[:space:]]*}
	hi=${range##*[[:space:]]}
	local listening="$BATS_TEST_TMPDIR/listening"
	for _ in 1 2 3; do
		# Listeners before and after the scan: a port open during it is
		# in one of the two unless some other program opened and closed
		# it meanwhile.
		ss -Hltn >"$listening"
		run timeout "$T" "$SOCKCTL" connect -z --open 127.0.0.1 "$lo-$hi"
		[[ $status -le 1 ]]
		ss -Hltn >>"$listening"
		local line p
		while read -r line; do
			[[ -n $line ]] || continue
			p=${line#127.0.0.1 }
			p=${p%% *}
			if ! grep -qE "[:]$p[[:space:]]" "$listening"; then
				echo "port $p reported open but nothing listens there: $line"
				return 1
			fi
		done <<<"$output"
	done
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

@test "connect -z --syn: a whole range agrees with the connect scan, IPv6 too" {
	need_raw
	serve_bg a --echo -k 127.0.0.1 0
	local pa=$port
	serve_bg b --discard -k 127.0.0.1 0
	local pb=$port lo hi
	lo=$(((pa < pb ? pa : pb) - 300))
	hi=$(((pa > pb ? pa : pb) + 300))
	((lo > 0)) || lo=1
	((hi < 65536)) || hi=65535
	run timeout "$T" "$SOCKCTL" connect -z --syn --open 127.0.0.1 "$lo-$hi"
	assert_success
	assert_line "127.0.0.1 $pa open"
	assert_line "127.0.0.1 $pb open"
	local syn=$output
	run timeout "$T" "$SOCKCTL" connect -z --open 127.0.0.1 "$lo-$hi"
	[[ $output == "$syn" ]]
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
