#!/usr/bin/env bats
# A server's own output (the access log, the chat room on stdout, -v
# diagnostics) written into a pipe nobody reads never stops the serving:
# it is queued, then dropped and counted, and said so on stderr.
# sockctl: per-backend
load helpers
load chat_lib

# start_unread NAME CMD...: runs CMD in the background with stdout into
# the fifo NAME.fifo, which this shell holds open on fd 9 and does not read
# (unread_lines reads it after the end); stderr in NAME.err.
start_unread() {
	local name=$1 fifo="$BATS_TEST_TMPDIR/$1.fifo"
	shift
	mkfifo "$fifo"
	_bg_fresh "$name"
	"$@" >"$fifo" 2>"$BATS_TEST_TMPDIR/$name.err" 7>&- 8>&- 9>&- &
	local pid=$!
	_bg_pids+=("$pid")
	eval "${name}_pid=$pid"
	exec 9<"$fifo"
}

# unread_lines: what the fifo held, once its writer has gone: the lines in
# unread.txt, their count in $shown. Every line must be whole.
unread_lines() {
	cat <&9 >"$BATS_TEST_TMPDIR/unread.txt"
	exec 9<&-
	shown=$(wc -l <"$BATS_TEST_TMPDIR/unread.txt")
	if [[ -s $BATS_TEST_TMPDIR/unread.txt && $(tail -c1 "$BATS_TEST_TMPDIR/unread.txt" | od -An -c) != *'\n'* ]]; then
		echo "a torn last line: $(tail -c 80 "$BATS_TEST_TMPDIR/unread.txt")" >&2
		return 1
	fi
}

# dropped_count NAME WHAT: the N of "sockctl: N WHAT dropped: ..." in
# NAME.err, summed over the lines (one per worker).
dropped_count() {
	awk -v what="$2" '
		$1 == "sockctl:" && index($0, " " what " dropped: ") { n += $2 }
		END { print n + 0 }' "$BATS_TEST_TMPDIR/$1.err"
}

# many_gets PORT: 3 clients of 450 keep-alive GETs each with a 1000-byte
# target and User-Agent: about 1.7 MB of access log, more than a pipe and
# the queue hold.
many_gets() {
	local pad i pids=()
	pad=$(head -c 1000 /dev/zero | tr '\0' u)
	for i in 1 2 3; do
		timeout "$T" curl -sSf -A "$pad" "http://127.0.0.1:$1/a.txt?n=[1-450]&p=$pad" \
			>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
}

# answers_then_stops: a new client of the http server h is answered at
# once; then h stops on SIGTERM, within the time it gives its log, with 0.
answers_then_stops() {
	run timeout 5 curl -sSf "http://127.0.0.1:$port/a.txt"
	assert_success
	assert_output hi
	kill -TERM "$h_pid"
	wait_exit "$h_pid" 10
	assert_equal "$status" 0
}

setup() {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www"
	echo hi >"$www/a.txt"
}

@test "http serve: an access log nobody reads never stops the serving" {
	start_unread h "$SOCKCTL" http serve -d "$www" 127.0.0.1 0
	wait_ready h
	many_gets "$port"
	# Lines were dropped while it served, and it says so, once.
	wait_file_contains "$BATS_TEST_TMPDIR/h.err" "stdout is not being read: dropping access log lines"
	answers_then_stops
	run grep -c "stdout is not being read" "$BATS_TEST_TMPDIR/h.err"
	assert_output 1
	local dropped
	dropped=$(dropped_count h "access log lines")
	unread_lines
	# Every request is either in the log or counted as dropped.
	((dropped > 0 && shown > 0))
	assert_equal "$((shown + dropped))" 1351
	run grep -vc '^127\.0\.0\.1 - - \[.*\] "GET /a.txt?n=[0-9]*&p=u* HTTP/1.1" 200 3 "-" "u*"$' \
		"$BATS_TEST_TMPDIR/unread.txt"
	assert_output 0
}

@test "http serve --workers=2: each worker queues its own log" {
	start_unread h "$SOCKCTL" http serve --workers=2 --log-format=json -d "$www" 127.0.0.1 0
	wait_ready h
	many_gets "$port"
	answers_then_stops
	local dropped
	dropped=$(dropped_count h "access log lines")
	unread_lines
	((dropped > 0))
	assert_equal "$((shown + dropped))" 1351
	run grep -vc '^{"time":.*"status":200,.*}$' "$BATS_TEST_TMPDIR/unread.txt"
	assert_output 0
}

@test "http serve: a reader that leaves costs the log, not the serving" {
	mkfifo "$BATS_TEST_TMPDIR/gone.fifo"
	_bg_fresh h
	"$SOCKCTL" http serve -d "$www" 127.0.0.1 0 >"$BATS_TEST_TMPDIR/gone.fifo" \
		2>"$BATS_TEST_TMPDIR/h.err" 7>&- 8>&- 9>&- &
	h_pid=$!
	_bg_pids+=("$h_pid")
	# Open and close the reading end at once: the log's writes fail.
	: <"$BATS_TEST_TMPDIR/gone.fifo"
	wait_ready h
	local i
	for i in 1 2 3; do
		run timeout 5 curl -sSf "http://127.0.0.1:$port/a.txt"
		assert_output hi
	done
	kill -TERM "$h_pid"
	wait_exit "$h_pid" 10
	assert_equal "$status" 0
	run grep -c "stdout: Broken pipe: dropping access log lines" "$BATS_TEST_TMPDIR/h.err"
	assert_output 1
	grep -qx "sockctl: 3 access log lines dropped: stdout: Broken pipe" "$BATS_TEST_TMPDIR/h.err"
}

# posts_reach_bob NICK N: a plain nc client NICK posts N numbered lines of
# 900 bytes and leaves; bob must receive every one of them.
posts_reach_bob() {
	local i line
	line=$(head -c 900 /dev/zero | tr '\0' x)
	{
		echo "/nick $1"
		for ((i = 1; i <= $2; i++)); do printf '%04d %s\n' "$i" "$line"; done
	} | timeout "$T" nc -N 127.0.0.1 "$port" >/dev/null
	sees bob "<$1> $(printf %04d "$2") x"
	run grep -c "<$1> [0-9]\{4\} x\{900\}$" "$BATS_TEST_TMPDIR/bob.out"
	assert_output "$2"
}

@test "chat serve: a room on a stdout nobody reads loses no client a line" {
	# A queue for bob that holds all of it: he reads as fast as he can,
	# but a busy machine must not get him dropped as a stalled reader.
	start_unread c "$SOCKCTL" chat serve -v --flood=0 --queue=16777216 127.0.0.1 0 </dev/null
	wait_ready c
	nc_join bob bob
	posts_reach_bob alice 200
	# 1300 more: about 1.2 MB of room on stdout, more than it keeps.
	posts_reach_bob carol 1300
	wait_file_contains "$BATS_TEST_TMPDIR/c.err" "stdout is not being read: dropping lines of the room"
	kill -TERM "$c_pid"
	wait_exit "$c_pid" 10
	assert_equal "$status" 0
	local dropped
	dropped=$(dropped_count c "lines of the room")
	unread_lines
	((dropped > 0 && shown + dropped >= 1500))
	run grep -vc '^\[lobby\] ' "$BATS_TEST_TMPDIR/unread.txt"
	assert_output 0
}

# serve_err_unread ARGS...: `sockctl serve ARGS` with stderr into a fifo
# held on fd 9 that is not read after the readiness line (which sets
# $port); stdout in s.out, the pid in $s_pid.
serve_err_unread() {
	local fifo=$BATS_TEST_TMPDIR/s.fifo ready
	mkfifo "$fifo"
	_bg_fresh s
	"$SOCKCTL" serve "$@" >"$BATS_TEST_TMPDIR/s.out" 2>"$fifo" 7>&- 8>&- 9>&- &
	s_pid=$!
	_bg_pids+=("$s_pid")
	exec 9<"$fifo"
	IFS= read -r ready <&9
	[[ $ready =~ listening\ on\ 127\.0\.0\.1:([0-9]+) ]]
	port=${BASH_REMATCH[1]}
}

@test "serve -v: diagnostics on a stderr nobody reads never stop the echo" {
	serve_err_unread -k --echo -v 127.0.0.1 0
	# A -v line per client, 4000 clients: more than the pipe holds.
	run timeout "$T" "$PY" "$BATS_TEST_DIRNAME/clients.py" seq 4000 127.0.0.1 "$port"
	assert_success
	assert_output "ok 4000"
	kill -TERM "$s_pid"
	wait_exit "$s_pid" 10
	assert_equal "$status" 0
	unread_lines
	((shown > 1500))
	run grep -vc '^sockctl: ' "$BATS_TEST_TMPDIR/unread.txt"
	assert_output 0
}

@test "serve -u -v --stats=json: dropped diagnostic lines are counted in the totals" {
	local d=$BATS_TEST_TMPDIR
	serve_err_unread -u --echo -v --stats=json 127.0.0.1 0
	# A -v line per datagram, 30000 of them one after the other: about
	# 1.5 MB, more than the pipe and the queue hold.
	run timeout "$T" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
a, n = ("127.0.0.1", int(sys.argv[1])), int(sys.argv[2])
for i in range(n):
    m = b"d%d" % i
    s.sendto(m, a)
    if s.recv(100) != m:
        sys.exit("bad echo %d" % i)
print("ok", n)' "$port" 30000
	assert_success
	assert_output "ok 30000"
	# Someone reads stderr again: the totals get through.
	cat <&9 >"$d/rest" &
	local cat_pid=$!
	exec 9<&-
	kill -TERM "$s_pid"
	wait_exit "$s_pid" 10
	assert_equal "$status" 0
	wait "$cat_pid"
	local json dropped shown
	json=$(grep '^{"sent":' "$d/rest")
	[[ $json =~ ^\{\"sent\":[0-9]+,\"received\":[0-9]+,\"seconds\":[0-9.]+,\"connections\":30000,\"log_dropped\":([0-9]+)\}$ ]]
	dropped=${BASH_REMATCH[1]}
	((dropped > 0))
	assert_equal "$(tail -1 "$d/rest")" \
		"sockctl: $dropped diagnostic lines dropped: stderr was not read"
	# Each datagram's line (and the stopping notice) shown or counted.
	shown=$(grep -c -e '^sockctl: datagram of ' -e '^sockctl: Terminated: stopping$' "$d/rest")
	assert_equal "$((shown + dropped))" 30001
}
