#!/usr/bin/env bats
# serve and connect beyond the basics, on the event loop: port scans,
# programs on connections, the fork/thread models and workers, the
# connection limit, access rules, real proxies, session logs, -C and the
# JSON totals.
# sockctl: per-backend
load helpers

# hold NAME PORT: a client that stays connected until `release NAME`.
hold() {
	mkfifo "$BATS_TEST_TMPDIR/$1.in"
	start_bg_stdin "$1" "$BATS_TEST_TMPDIR/$1.in" "$SOCKCTL" connect 127.0.0.1 "$2"
	exec {hold_fd}>"$BATS_TEST_TMPDIR/$1.in"
	eval "${1}_fd=$hold_fd"
}
release() {
	local v="${1}_fd"
	local fd=${!v}
	exec {fd}>&-
}

# hold_cmd NAME CMD...: CMD with its stdin from a fifo that stays open
# until `release NAME`; $NAME_fd writes to it. Later commands do not
# inherit the writers, or a release would not be an EOF.
_hold_fds=()
hold_cmd() {
	local name=$1
	shift
	mkfifo "$BATS_TEST_TMPDIR/$name.in"
	start_bg_stdin "$name" "$BATS_TEST_TMPDIR/$name.in" _without_holds "$@"
	exec {hold_fd}>"$BATS_TEST_TMPDIR/$name.in"
	eval "${name}_fd=$hold_fd"
	_hold_fds+=("$hold_fd")
}
_without_holds() {
	local f
	for f in "${_hold_fds[@]}"; do
		exec {f}>&-
	done
	exec "$@"
}

# wait_count FILE TEXT N: polls until FILE holds N lines with TEXT.
wait_count() {
	local i
	for ((i = 0; i < 2000; i++)); do
		[[ $(grep -cF -- "$2" "$1" 2>/dev/null) == "$3" ]] && return 0
		sleep 0.01
	done
	echo "$1 never held $3 lines with '$2':" >&2
	cat "$1" >&2
	return 1
}

@test "connect -z: one line per port in order, exit 0 if any is open, --json, --open" {
	serve_bg srv --echo -k 127.0.0.1 0
	local open=$port closed
	closed=$(free_port)
	run timeout "$T" "$SOCKCTL" connect -z 127.0.0.1 "$closed,$open"
	assert_success
	assert_output "127.0.0.1 $closed closed
127.0.0.1 $open open"
	run timeout "$T" "$SOCKCTL" connect -z --json 127.0.0.1 "$closed"
	assert_failure 1
	assert_output "{\"host\":\"127.0.0.1\",\"address\":\"127.0.0.1\",\"port\":$closed,\"state\":\"closed\"}"
	run timeout "$T" "$SOCKCTL" connect -z --open --parallel 3 127.0.0.1 "$closed,$open,$closed"
	assert_success
	assert_output "127.0.0.1 $open open"
	run timeout "$T" "$SOCKCTL" connect -z 127.0.0.1 "10-5"
	assert_failure 2
	assert_output --partial "range 10-5 is reversed"
}

@test "serve -k --sh-exec: the socket is the program's stdin/stdout, with SOCKCTL_* set" {
	serve_bg srv -v -k --sh-exec 'echo "$SOCKCTL_PROTO $SOCKCTL_REMOTE_ADDR $SOCKCTL_LOCAL_PORT"; tr a-z A-Z; exit 3' 127.0.0.1 0
	# Two at once: the first stays connected while the second is served.
	hold c1 "$port"
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"second"
	assert_success
	assert_output "tcp 127.0.0.1 $port
SECOND"
	echo first >&"$c1_fd"
	release c1
	wait_exit "$c1_pid"
	assert_equal "$status" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/c1.out")" "tcp 127.0.0.1 $port
FIRST"
	wait_file_contains "$BATS_TEST_TMPDIR/srv.err" "exited with status 3"
}

@test "serve --exec without -k exits with the program's status; connect --exec too" {
	start_bg srv "$SOCKCTL" serve --sh-exec 'exit 5' 127.0.0.1 0
	wait_ready srv
	start_bg srv2 "$SOCKCTL" serve -k --exec "printf %s hello" 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	wait_exit "$srv_pid"
	assert_equal "$status" 5
	wait_ready srv2
	run timeout "$T" "$SOCKCTL" connect --sh-exec 'cat >"$BATS_TEST_TMPDIR/got"; exit 7' 127.0.0.1 "$port"
	assert_failure 7
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "hello"
	run timeout "$T" "$SOCKCTL" connect --exec /nonexistent/prog 127.0.0.1 "$port"
	assert_failure 1
	assert_output "sockctl: exec /nonexistent/prog: No such file or directory"
}

@test "--model=fork and --model=thread serve clients at once; without -k one client" {
	local m
	for m in fork thread; do
		serve_bg "s$m" --model=$m --upper -k 127.0.0.1 0
		hold "h$m" "$port"
		run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"$m"
		assert_success
		assert_output "${m^^}"
		release "h$m"
	done
	serve_bg one --model=fork --echo 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"once"
	assert_output "once"
	wait_exit "$one_pid"
	assert_equal "$status" 0
}

@test "--workers 2: two processes on one port, every client served, one readiness line" {
	serve_bg srv --workers 2 --echo -k 127.0.0.1 0
	assert_equal "$(grep -c 'listening on' "$BATS_TEST_TMPDIR/srv.err")" 1
	local n
	n=$(pgrep -c -P "$srv_pid")
	assert_equal "$n" 2
	for i in $(seq 1 20); do
		run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"w$i"
		assert_output "w$i"
	done
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
}

@test "-m 1: a second client is accepted and closed at once, then served after" {
	serve_bg srv -v -m 1 --echo -k 127.0.0.1 0
	hold c1 "$port"
	echo one >&"$c1_fd"
	wait_file_contains "$BATS_TEST_TMPDIR/c1.out" one
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"two"
	refute_output --partial "two"
	wait_file_contains "$BATS_TEST_TMPDIR/srv.err" "connection limit (-m) reached"
	release c1
	wait_exit "$c1_pid"
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"three"
	assert_output "three"
}

@test "--allow/--deny with CIDR blocks and files" {
	serve_bg deny -v --deny 127.0.0.0/8 --echo -k 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"x"
	refute_output "x"
	wait_file_contains "$BATS_TEST_TMPDIR/deny.err" "not allowed by --allow/--deny"
	serve_bg other --allow 10.0.0.0/8 --allow ::1 --echo -k 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"x"
	refute_output "x"
	printf '# lab\n10.1.0.0/16\n127.0.0.1  # here\n' >"$BATS_TEST_TMPDIR/allow"
	serve_bg file --allow-file "$BATS_TEST_TMPDIR/allow" --deny 127.0.0.2 --echo -k 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"in"
	assert_output "in"
	printf '10.0.0.0/99\n' >"$BATS_TEST_TMPDIR/bad"
	run "$SOCKCTL" serve --deny-file "$BATS_TEST_TMPDIR/bad" --echo 127.0.0.1 0
	assert_failure 1
	assert_output "sockctl: --deny-file: $BATS_TEST_TMPDIR/bad:1: bad prefix length in '10.0.0.0/99' (0-32)"
}

@test "serve -u --allow/--deny: datagrams from others are dropped unanswered and counted" {
	serve_bg deny -u -v --deny 127.0.0.1 --echo 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" udp-send -w 0.3 127.0.0.1 "$port" denied
	assert_failure 1
	assert_output "sockctl: timeout: no reply from 127.0.0.1:$port within 0.3 s"
	wait_file_contains "$BATS_TEST_TMPDIR/deny.err" \
		"dropped datagram of 6 bytes from 127.0.0.1:"
	run timeout "$T" "$SOCKCTL" udp-send -s 127.0.0.2 -w 5 --replies 1 127.0.0.1 "$port" other
	assert_success
	assert_output "other"
	kill -TERM "$deny_pid"
	wait_exit "$deny_pid"
	grep -q "served 1 datagrams, dropped 1; received 5 bytes, sent 5 bytes" \
		"$BATS_TEST_TMPDIR/deny.err"
	# An allow list admits only its own.
	serve_bg allow -u --allow 127.0.0.2/32 --upper 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" udp-send -s 127.0.0.1 -w 0.3 127.0.0.1 "$port" me
	assert_failure 1
	run timeout "$T" "$SOCKCTL" udp-send -s 127.0.0.2 -w 5 --replies 1 127.0.0.1 "$port" two
	assert_output "TWO"
	# IPv6, and a file of rules.
	printf '::1\n' >"$BATS_TEST_TMPDIR/v6deny"
	serve_bg v6 -u --deny-file "$BATS_TEST_TMPDIR/v6deny" --echo ::1 0
	run timeout "$T" "$SOCKCTL" udp-send -w 0.3 ::1 "$port" six
	assert_failure 1
	serve_bg v6ok -u --allow ::1/128 --deny 127.0.0.0/8 --echo ::1 0
	run timeout "$T" "$SOCKCTL" udp-send -w 5 --replies 1 ::1 "$port" six
	assert_success
	assert_output "six"
	# Unix sockets have no address to match.
	run "$SOCKCTL" serve -u --deny 127.0.0.1 --echo -U "$BATS_TEST_TMPDIR/sock"
	assert_failure 2
	assert_output --partial "--allow and --deny match IP addresses: not with -U"
}

@test "-v and --stats=json count every byte with --model=fork, --model=thread and --exec" {
	local d=$BATS_TEST_TMPDIR i=0 m
	head -c 300000 /dev/urandom >"$d/blob"
	for m in "--model=fork --echo" "--model=thread --upper" "--model=fork --respond hello" \
		"--sh-exec cat"; do
		i=$((i + 1))
		# shellcheck disable=SC2086
		serve_bg "s$i" -k -v --stats=json $m 127.0.0.1 0
		timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <"$d/blob" >"$d/back$i"
		timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"line" >/dev/null
		local pid_var="s${i}_pid" n
		# --respond ends the client before the handler has drained
		# what it sent: stop the server once both children are reaped.
		for _ in $(seq 1000); do
			n=$(grep -c "exited with status" "$d/s$i.err" || true)
			[[ $m != *respond* || $n == 2 ]] && break
			sleep 0.01
		done
		kill -TERM "${!pid_var}"
		wait_exit "${!pid_var}"
		local want=300005
		[[ $m == *respond* ]] && want=10
		run tail -2 "$d/s$i.err"
		assert_line --index 0 \
			"sockctl: served 2 connections, refused 0; received 300005 bytes, sent $want bytes"
		assert_line --index 1 --regexp \
			"^\\{\"sent\":$want,\"received\":300005,\"seconds\":[0-9.]+,\"connections\":2\\}$"
	done
	cmp "$d/blob" "$d/back1"
	cmp "$d/blob" "$d/back4"
	# Programs on both sides: the kernel's counts.
	serve_bg one --stats=json --sh-exec 'head -c 1000 >/dev/null; printf abc' 127.0.0.1 0
	run timeout "$T" "$SOCKCTL" connect --stats=json \
		--sh-exec "head -c 1000 '$d/blob'; cat >'$d/got'" 127.0.0.1 "$port"
	assert_success
	assert_output --regexp '^\{"sent":1000,"received":3,"seconds":[0-9.]+,"connections":1\}$'
	assert_equal "$(cat "$d/got")" "abc"
	wait_exit "$one_pid"
	run tail -1 "$d/one.err"
	assert_output --regexp '^\{"sent":3,"received":1000,"seconds":[0-9.]+,"connections":1\}$'
}

# start_proxies [MICROSOCKS-ARGS...]: ncat's HTTP proxy on $hp and
# microsocks (SOCKS5) on $sp, both on loopback. Both close the whole
# tunnel when the client half-closes.
start_proxies() {
	command -v microsocks >/dev/null || skip "microsocks is not installed (build-aux/install-deps.sh)"
	hp=$(free_port)
	start_bg http ncat -l 127.0.0.1 "$hp" --proxy-type http
	sp=$(free_port)
	start_bg socks microsocks -i 127.0.0.1 -p "$sp" "$@"
	# Neither says when it listens: poll both ports with a scan.
	local i
	for i in $(seq 200); do
		[[ $("$SOCKCTL" connect -z --open 127.0.0.1 "$hp,$sp" | wc -l) == 2 ]] && return 0
		sleep 0.05
	done
	echo "the proxies did not start" >&2
	return 1
}

@test "--proxy through ncat's HTTP proxy and a SOCKS5 server with USER:PASS" {
	serve_bg srv --respond "through" -k 127.0.0.1 0
	local target=$port hp sp
	start_proxies -u alice -P secret
	run timeout "$T" "$SOCKCTL" connect --recv-only --proxy "127.0.0.1:$hp" localhost "$target"
	assert_success
	assert_output "through"
	run timeout "$T" "$SOCKCTL" connect --recv-only --proxy "127.0.0.1:$sp" --proxy-type socks5 \
		--proxy-auth alice:secret localhost "$target"
	assert_success
	assert_output "through"
	run timeout "$T" "$SOCKCTL" connect --recv-only --proxy "127.0.0.1:$sp" --proxy-type socks5 \
		--proxy-auth alice:wrong 127.0.0.1 "$target"
	assert_failure 1
	assert_output "sockctl: 127.0.0.1:$sp: proxy refused the user name or password"
	run timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$hp" 127.0.0.1 "$(free_port)" </dev/null
	assert_failure 1
	assert_output --regexp "^sockctl: 127.0.0.1:$hp: proxy refused: [45][0-9][0-9] "
}

@test "--proxy: the reply comes back through proxies that drop the tunnel on a half-close" {
	local hp sp echo late eof pr
	start_proxies
	serve_bg echo --echo -k 127.0.0.1 0
	echo=$port
	# Answers 0.3 s after the line, without waiting for EOF: an immediate
	# FIN makes ncat and microsocks close the tunnel before that.
	serve_bg late -k --sh-exec 'read -r l; sleep 0.3; echo "late $l"' 127.0.0.1 0
	late=$port
	# Answers only after EOF, which these proxies cannot carry.
	serve_bg eof -k --sh-exec 'wc -c' 127.0.0.1 0
	eof=$port
	for pr in "127.0.0.1:$hp" "127.0.0.1:$sp --proxy-type socks5"; do
		# shellcheck disable=SC2086
		run timeout "$T" "$SOCKCTL" connect --proxy $pr 127.0.0.1 "$echo" <<<"x"
		assert_success
		assert_output "x"
		# shellcheck disable=SC2086
		run timeout "$T" "$SOCKCTL" connect --proxy $pr 127.0.0.1 "$late" <<<"x"
		assert_success
		assert_output "late x"
		# A big upload: the echo keeps coming after EOF, and all of it is
		# read before the FIN goes.
		head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
		# shellcheck disable=SC2086
		timeout "$T" "$SOCKCTL" connect --proxy $pr 127.0.0.1 "$echo" \
			<"$BATS_TEST_TMPDIR/blob" >"$BATS_TEST_TMPDIR/back"
		cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/back"
		# With the FIN at once the reply is lost, and that is said.
		local tunnel=${pr%% *}
		# shellcheck disable=SC2086
		run timeout "$T" "$SOCKCTL" connect --shutdown-delay 0 --proxy $pr 127.0.0.1 "$late" <<<"x"
		assert_failure 1
		assert_output "sockctl: $tunnel closed the tunnel right after the end of input, with nothing received: the proxy may have dropped the reply (see --shutdown-delay)"
		# shellcheck disable=SC2086
		run timeout "$T" "$SOCKCTL" connect --shutdown-delay 0.5 --proxy $pr 127.0.0.1 "$eof" <<<"x"
		assert_failure 1
		assert_output --partial "the proxy may have dropped the reply"
	done
	run "$SOCKCTL" connect --shutdown-delay -1 --proxy "127.0.0.1:$hp" 127.0.0.1 "$echo"
	assert_failure 2
	assert_output --partial "invalid --shutdown-delay '-1': give seconds >= 0"
}

@test "serve --broker: each client's bytes go to all the others, stdin to all, nothing to stdout" {
	local d=$BATS_TEST_TMPDIR
	hold_cmd srv "$SOCKCTL" serve -v --broker 127.0.0.1 0
	wait_ready srv
	# Clients of three kinds: sockctl, ncat and OpenBSD nc.
	hold_cmd a "$SOCKCTL" connect 127.0.0.1 "$port"
	hold_cmd b ncat 127.0.0.1 "$port"
	hold_cmd c nc 127.0.0.1 "$port"
	wait_count "$d/srv.err" "connection from" 3
	echo from-a >&"$a_fd"
	wait_file_contains "$d/b.out" from-a
	wait_file_contains "$d/c.out" from-a
	echo from-b >&"$b_fd"
	wait_file_contains "$d/a.out" from-b
	wait_file_contains "$d/c.out" from-b
	echo from-c >&"$c_fd"
	wait_file_contains "$d/a.out" from-c
	wait_file_contains "$d/b.out" from-c
	echo from-stdin >&"$srv_fd"
	# After stdin's EOF the clients go on as before (as with ncat).
	release srv
	wait_file_contains "$d/a.out" from-stdin
	echo after-eof >&"$a_fd"
	wait_file_contains "$d/b.out" after-eof
	wait_file_contains "$d/c.out" after-eof
	# No one hears themselves.
	assert_equal "$(cat "$d/a.out")" "$(printf 'from-b\nfrom-c\nfrom-stdin')"
	assert_equal "$(cat "$d/b.out")" "$(printf 'from-a\nfrom-c\nfrom-stdin\nafter-eof')"
	assert_equal "$(cat "$d/c.out")" "$(printf 'from-a\nfrom-b\nfrom-stdin\nafter-eof')"
	# A client's EOF ends it (its half-closed connection is closed).
	release a
	wait_exit "$a_pid"
	assert_equal "$status" 0
	echo last >&"$b_fd"
	wait_file_contains "$d/c.out" last
	assert_equal "$(cat "$d/srv.out")" ""
	kill -0 "$srv_pid"
	run "$SOCKCTL" serve --broker --echo 0
	assert_failure 2
	run "$SOCKCTL" serve --broker -u 0
	assert_failure 2
	assert_output --partial "--broker relays between the stream clients of one process"
	run "$SOCKCTL" serve --stall-timeout 1 0
	assert_failure 2
	assert_output --partial "--stall-timeout goes with --broker"
}

@test "serve --broker: the clients go at the pace of the slowest, a stalled one is dropped; -m" {
	local d=$BATS_TEST_TMPDIR
	# A fixed size, well past what the stalled client's buffers hold.
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$d/blob"
	start_bg_stdin srv /dev/null "$SOCKCTL" serve -v --broker --stall-timeout 1 -m 3 \
		--sndbuf 256K 127.0.0.1 0
	wait_ready srv
	start_bg fast "$SOCKCTL" connect --recv-only 127.0.0.1 "$port"
	# Reads nothing until $d/go exists (or the test ends).
	start_bg slow "$SOCKCTL" connect --rcvbuf 64K --sh-exec "$(gate "$d/go"); cat >'$d/slow.got'" \
		127.0.0.1 "$port"
	hold_cmd idle "$SOCKCTL" connect 127.0.0.1 "$port"
	wait_count "$d/srv.err" "connection from" 3
	# -m 3: a fourth is accepted and closed at once.
	run timeout "$T" "$SOCKCTL" connect --recv-only 127.0.0.1 "$port"
	assert_success
	assert_output ""
	wait_file_contains "$d/srv.err" "connection limit (-m) reached"
	release idle
	wait_exit "$idle_pid"
	wait_count "$d/srv.err" "connection from" 3
	# The sender is held back while the slow client's queue is full, for
	# a second, then that client is dropped and the rest flows.
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <"$d/blob"
	assert_success
	wait_file_contains "$d/srv.err" "took nothing for 1 s with"
	for _ in $(seq 2000); do
		[[ $(stat -c %s "$d/fast.out") == $((8 * 1024 * 1024)) ]] && break
		sleep 0.01
	done
	cmp "$d/blob" "$d/fast.out"
	touch "$d/go"
	wait_exit "$slow_pid"
	assert_equal "$status" 0
	(($(stat -c %s "$d/slow.got") < 8 * 1024 * 1024))
	# What it got is the start of the stream, whole.
	cmp -n "$(stat -c %s "$d/slow.got")" "$d/blob" "$d/slow.got"
}

# start_dante: dante-server's danted on a free loopback port, with $sp
# set to it. danted cannot take port 0, so the kernel picks a port that
# is free now; should another process take it first, danted exits and the
# next port is tried.
start_dante() {
	local danted
	danted=$(command -v danted || echo /usr/sbin/danted)
	[[ -x $danted ]] || skip "danted is not installed (dante-server, build-aux/install-deps.sh)"
	local users=""
	# As root it must be told whom to run as; otherwise it runs as is.
	[[ $(id -u) == 0 ]] && users=$'user.privileged: root\nuser.unprivileged: nobody'
	local try i
	for try in 1 2 3 4 5; do
		sp=$(free_port)
		cat >"$BATS_TEST_TMPDIR/dante.conf" <<-EOF
			logoutput: stderr
			internal: 127.0.0.1 port = $sp
			external: 127.0.0.1
			clientmethod: none
			socksmethod: none
			$users
			client pass {
				from: 127.0.0.0/8 to: 0.0.0.0/0
			}
			socks pass {
				from: 127.0.0.0/8 to: 127.0.0.0/8
				command: connect
			}
		EOF
		start_bg "dante$try" "$danted" -f "$BATS_TEST_TMPDIR/dante.conf" -N 1 \
			-p "$BATS_TEST_TMPDIR/dante.pid"
		local pid_var="dante${try}_pid"
		for i in $(seq 500); do
			[[ -n $("$SOCKCTL" connect -z --open 127.0.0.1 "$sp") ]] && return 0
			kill -0 "${!pid_var}" 2>/dev/null || break
			sleep 0.02
		done
		kill -0 "${!pid_var}" 2>/dev/null && break
		grep -q "in use" "$BATS_TEST_TMPDIR/dante$try.err" || break
	done
	echo "danted did not start:" >&2
	cat "$BATS_TEST_TMPDIR"/dante*.err >&2
	return 1
}

@test "--proxy-type socks4 and socks5 through dante-server: data both ways, refusals" {
	start_dante
	serve_bg srv --echo -k 127.0.0.1 0
	head -c $((1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	local t closed
	for t in socks4 socks5; do
		timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$sp" --proxy-type $t 127.0.0.1 \
			"$port" <"$BATS_TEST_TMPDIR/blob" >"$BATS_TEST_TMPDIR/back.$t"
		cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/back.$t"
		# A program on the tunnel: its totals leave out the handshake.
		run timeout "$T" "$SOCKCTL" connect --stats=json --proxy "127.0.0.1:$sp" \
			--proxy-type $t --sh-exec 'echo ping; read -r x; echo "$x" >&2' 127.0.0.1 "$port"
		assert_success
		assert_line --index 0 "ping"
		assert_line --index 1 --regexp '^\{"sent":5,"received":5,"seconds":[0-9.]+,"connections":1\}$'
	done
	# The proxy resolves the name with socks5; with socks4 a name goes as
	# SOCKS4a, which dante 1.4 does not speak (it takes 0.0.0.1 as the
	# address and refuses it), so --proxy-dns local resolves it here.
	run timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$sp" --proxy-type socks5 localhost \
		"$port" <<<"by name"
	assert_success
	assert_output "by name"
	run timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$sp" --proxy-type socks4 \
		--proxy-dns local localhost "$port" <<<"resolved here"
	assert_success
	assert_output "resolved here"
	run timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$sp" --proxy-type socks4 localhost \
		"$port" </dev/null
	assert_failure 1
	assert_output "sockctl: 127.0.0.1:$sp: proxy refused: request rejected or failed"
	closed=$(free_port)
	run timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$sp" --proxy-type socks4 127.0.0.1 \
		"$closed" </dev/null
	assert_failure 1
	assert_output "sockctl: 127.0.0.1:$sp: proxy refused: request rejected or failed"
	run timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$sp" --proxy-type socks5 127.0.0.1 \
		"$closed" </dev/null
	assert_failure 1
	assert_output "sockctl: 127.0.0.1:$sp: proxy: connection refused"
}

@test "--proxy through dante, which passes a half-close on: replies before and after EOF" {
	start_dante
	serve_bg late -k --sh-exec 'read -r l; sleep 0.3; echo "late $l"' 127.0.0.1 0
	local late=$port t
	serve_bg eof -k --sh-exec 'wc -c' 127.0.0.1 0
	for t in socks4 socks5; do
		run timeout "$T" "$SOCKCTL" connect --proxy "127.0.0.1:$sp" --proxy-type $t 127.0.0.1 \
			"$late" <<<"x"
		assert_success
		assert_output "late x"
		# The held FIN goes after the delay, and the answer comes.
		run timeout "$T" "$SOCKCTL" connect --shutdown-delay 0.3 --proxy "127.0.0.1:$sp" \
			--proxy-type $t 127.0.0.1 "$port" <<<"x"
		assert_success
		assert_output "2"
		run timeout "$T" "$SOCKCTL" connect --shutdown-delay 0 --proxy "127.0.0.1:$sp" \
			--proxy-type $t 127.0.0.1 "$port" <<<"abc"
		assert_success
		assert_output "4"
	done
}

@test "-o and -x log the session, --append adds, -C sends CRLF, --stats=json totals" {
	serve_bg srv --respond $'pong\n' -k 127.0.0.1 0
	local d=$BATS_TEST_TMPDIR
	run timeout "$T" "$SOCKCTL" connect -o "$d/raw" -x "$d/hex" --stats=json 127.0.0.1 "$port" <<<"ping"
	assert_success
	assert_line --index 0 "pong"
	assert_line --index 1 --regexp '^\{"sent":5,"received":5,"seconds":[0-9.]+,"connections":1\}$'
	# Both directions, in the order they passed (which is a race here).
	assert_equal "$(wc -c <"$d/raw")" 10
	grep -q ping "$d/raw"
	grep -q pong "$d/raw"
	grep -q '^> 00000000  70 69 6e 67 0a .*|ping.|$' "$d/hex"
	grep -q '^< 00000000  70 6f 6e 67 0a .*|pong.|$' "$d/hex"
	timeout "$T" "$SOCKCTL" connect -o "$d/raw" --append 127.0.0.1 "$port" <<<"again" >/dev/null
	assert_equal "$(wc -c <"$d/raw")" $((5 + 5 + 6 + 5))
	serve_bg cap --recv-only 127.0.0.1 0
	printf 'a\nb\r\n' | timeout "$T" "$SOCKCTL" connect -C 127.0.0.1 "$port"
	wait_exit "$cap_pid"
	assert_equal "$(od -An -c "$d/cap.out" | tr -s ' ')" " a \r \n b \r \n"
	serve_bg crs -C --respond $'x\ny\n' -k 127.0.0.1 0
	run timeout "$T" bash -c "'$SOCKCTL' connect --recv-only 127.0.0.1 $port | od -An -c | tr -s ' '"
	assert_output " x \r \n y \r \n"
}

@test "-C --respond @FILE: the same CRLF bytes in every model, a CR LF already there kept whole" {
	local d=$BATS_TEST_TMPDIR m
	# "\r\n" where the fork and thread handlers once cut the text into
	# pieces, and a bare "\n" to expand.
	{
		head -c 8190 /dev/zero | tr '\0' a
		printf '\r\nb\n'
	} >"$d/body"
	{
		head -c 8190 /dev/zero | tr '\0' a
		printf '\r\nb\r\n'
	} >"$d/want"
	for m in loop fork thread; do
		serve_bg "s$m" -k -C --model=$m --respond @"$d/body" 127.0.0.1 0
		timeout "$T" "$SOCKCTL" connect --recv-only 127.0.0.1 "$port" >"$d/got.$m"
		cmp "$d/want" "$d/got.$m"
	done
}

# gate FILE: a shell loop that waits (at most 30 s) until FILE exists; the
# tests' slow readers start with it. Teardown creates $BATS_TEST_TMPDIR/go,
# so a failed test leaves no program waiting.
gate() {
	printf 'for i in $(seq 600); do [ -e %q ] && break; sleep 0.05; done' "$1"
}
teardown() {
	: >"$BATS_TEST_TMPDIR/go"
	teardown_common
}

# pty_bg NAME COMMAND: runs the shell COMMAND with a pty as its stdin,
# stdout and stderr (script(1)); what it draws is in NAME.out.
pty_bg() {
	command -v script >/dev/null || skip "script is not installed (util-linux)"
	start_bg_stdin "$1" /dev/null script -qfec "$2" /dev/null
}

# The text after the last "\r\e[K" of a pty copy: the line left at the
# end (and what followed it).
last_line() {
	local t
	t=$(cat "$1" && echo .)
	t=${t%.}
	printf '%s' "${t##*$'\r\e[K'}"
}

@test "--progress: a live line with percent and ETA for a file, a summary left at the end" {
	local d=$BATS_TEST_TMPDIR mib=$((8 / SCALE))
	head -c $((mib * 1024 * 1024)) /dev/zero >"$d/blob"
	# Takes nothing until $d/go exists, with small buffers (not under the
	# loopback MSS of 64 KiB, or TCP crawls): the clients stay in the
	# middle of their transfer until then.
	serve_bg gate -k --rcvbuf 256K --sh-exec "$(gate "$d/go"); cat >/dev/null" 127.0.0.1 0
	local c="'$SOCKCTL' connect --sndbuf 256K --progress 127.0.0.1 $port"
	# stderr not a terminal: nothing drawn. Started first, so it has run
	# longer than the others by the time they draw.
	start_bg_stdin plain "$d/blob" "$SOCKCTL" connect --sndbuf 256K --progress 127.0.0.1 "$port"
	pty_bg file "$c <'$d/blob'"
	pty_bg pipe "head -c $((mib * 1024 * 1024)) /dev/zero | $c"
	wait_file_contains "$d/file.out" " of $mib.0 MiB ("
	wait_file_contains "$d/file.out" ", ETA "
	wait_file_contains "$d/pipe.out" ", received 0 B, "
	touch "$d/go"
	local n
	for n in file pipe plain; do
		local pid_var="${n}_pid"
		wait_exit "${!pid_var}"
		assert_equal "$status" 0
	done
	# Refreshed in place: "sent X of SIZE (P%), received Y, RATE/s, ETA M:SS".
	grep -qE $'\r\e\\[Ksent [0-9.]+ [KM]?i?B of '"$mib"'\.0 MiB \([0-9]+%\), received 0 B, [0-9.]+ [KM]?i?B/s, ETA ([0-9]+:[0-9][0-9]|--:--)' "$d/file.out"
	# A pipe has no size: no percent, no ETA.
	grep -qE $'\r\e\\[Ksent [0-9.]+ [KM]?i?B, received 0 B, [0-9.]+ [KM]?i?B/s' "$d/pipe.out"
	if grep -qE ' of |ETA' "$d/pipe.out"; then fail "a size for a pipe: $(cat -v "$d/pipe.out")"; fi
	# The summary stays, on its own line (the pty turns \n into \r\n).
	for n in file pipe; do
		run last_line "$d/$n.out"
		assert_output --regexp $'^sent '"$mib"$'\\.0 MiB, received 0 B in [0-9]+\\.[0-9] s \\([0-9.]+ [KM]?i?B/s\\)\r$'
	done
	assert_equal "$(cat "$d/plain.err")" ""
}

@test "--progress on serve: the file on stdin gives a percentage; -v lines start on a clean line" {
	local d=$BATS_TEST_TMPDIR mib=$((8 / SCALE))
	head -c $((mib * 1024 * 1024)) /dev/zero >"$d/blob"
	pty_bg srv "'$SOCKCTL' serve -v --sndbuf 256K --progress 127.0.0.1 0 <'$d/blob'"
	wait_file_contains "$d/srv.out" "listening on"
	local line
	line=$(grep -ao 'listening on 127.0.0.1:[0-9]*' "$d/srv.out")
	# A client that reads nothing until $d/go exists.
	start_bg c "$SOCKCTL" connect --rcvbuf 256K --sh-exec "$(gate "$d/go"); cat >'$d/got'" \
		127.0.0.1 "${line##*:}"
	wait_file_contains "$d/srv.out" " of $mib.0 MiB ("
	touch "$d/go"
	wait_exit "$c_pid"
	assert_equal "$status" 0
	wait_exit "$srv_pid"
	assert_equal "$status" 0
	cmp "$d/blob" "$d/got"
	# The -v line clears the live line first instead of being glued to it.
	grep -q $'\r\e\\[Ksockctl: sent '$((mib * 1024 * 1024))' bytes, received 0 bytes in ' "$d/srv.out"
	# The summary stays on its own line; serve's -v totals follow it.
	run last_line "$d/srv.out"
	assert_line --index 0 --regexp $'^sent '"$mib"$'\\.0 MiB, received 0 B in [0-9.]+ s \\([0-9.]+ [KM]?i?B/s\\)\r$'
	assert_line --index 1 --regexp $'^sockctl: served 1 connections, refused 0; received 0 bytes, sent '$((mib * 1024 * 1024))$' bytes\r$'
}
