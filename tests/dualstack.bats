#!/usr/bin/env bats
# Listening addresses and the two IP families: "::" and "*" are one
# dual-stack socket taking IPv4 and IPv6 clients, "0.0.0.0" is IPv4 only,
# -6 is IPv6 only; IPv4 peers of a dual-stack socket are shown, logged,
# exported and matched as IPv4. For serve, chat serve and http serve.
load helpers
load chat_lib

setup() {
	cd "$BATS_TEST_TMPDIR"
	"$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
		skip "no IPv6 loopback (::1) on this machine"
}

# reaches HOST: a line through `sockctl serve --echo` on $port comes back
# from HOST.
reaches() {
	local out
	out=$(timeout "$T" "$SOCKCTL" connect "$1" "$port" <<<"hi $1" 2>&1) &&
		[ "$out" = "hi $1" ]
}

# refused HOST: a connection to HOST on $port is refused.
refused() {
	run --separate-stderr timeout "$T" "$SOCKCTL" connect "$1" "$port" </dev/null
	[ "$status" -eq 1 ] && [[ $stderr == *"Connection refused"* ]]
}

@test "serve ::: one socket for IPv4 and IPv6 clients; IPv4 peers shown as IPv4" {
	serve_bg srv -v -k --sh-exec 'echo "$SOCKCTL_REMOTE_ADDR"' ::
	[[ $addr == "[::]:$port" ]]
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_success
	assert_output "127.0.0.1"
	run timeout "$T" "$SOCKCTL" connect ::1 "$port" </dev/null
	assert_success
	assert_output "::1"
	wait_file_contains srv.err "program started for connection 127.0.0.1:"
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(grep -c 'program started' srv.err)" -ge 2 ] && break
		sleep 0.01
	done
	run grep -c ffff srv.err
	[ "$output" = 0 ]
}

@test "serve: '*' and '' take both families, 0.0.0.0 and -4 IPv4 only, -6 IPv6 only" {
	serve_bg star --echo -k '*'
	[[ $addr == "[::]:$port" ]]
	reaches 127.0.0.1
	reaches ::1
	serve_bg empty --echo -k ''
	[[ $addr == "[::]:$port" ]]
	reaches 127.0.0.1
	reaches ::1
	serve_bg any4 --echo -k 0.0.0.0
	[[ $addr == "0.0.0.0:$port" ]]
	reaches 127.0.0.1
	refused ::1
	serve_bg star4 -4 --echo -k '*'
	[[ $addr == "0.0.0.0:$port" ]]
	reaches 127.0.0.1
	refused ::1
	serve_bg only6 -6 --echo -k ::
	[[ $addr == "[::]:$port" ]]
	reaches ::1
	refused 127.0.0.1
	serve_bg star6 -6 --echo -k '*'
	[[ $addr == "[::]:$port" ]]
	reaches ::1
	refused 127.0.0.1
	# The loopback default is unchanged.
	serve_bg lo --echo -k
	[[ $addr == "127.0.0.1:$port" ]]
	refused ::1
}

@test "serve --allow/--deny on ::: IPv4 rules match IPv4 peers, logged as IPv4" {
	serve_bg allow4 -v -k --echo --allow 127.0.0.0/8 ::
	reaches 127.0.0.1
	run timeout "$T" "$SOCKCTL" connect ::1 "$port" </dev/null
	assert_output ""
	wait_file_contains allow4.err "refused [::1]:"
	serve_bg deny4 -v -k --echo --deny 127.0.0.1 ::
	reaches ::1
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_output ""
	wait_file_contains deny4.err "refused 127.0.0.1:"
	# A rule written in the mapped form is the same IPv4 rule.
	serve_bg mapped -v -k --echo --deny ::ffff:127.0.0.0/104 ::
	reaches ::1
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_output ""
	wait_file_contains mapped.err "refused 127.0.0.1:"
	run grep -c ffff allow4.err deny4.err mapped.err
	[[ $output != *:[1-9]* ]]
}

@test "serve -u ::: datagrams from both families are answered" {
	serve_bg srv -v -u --echo ::
	[[ $addr == "[::]:$port" ]]
	run timeout "$T" "$SOCKCTL" udp-send -w 2 --replies 1 127.0.0.1 "$port" four
	assert_success
	assert_output "four"
	run timeout "$T" "$SOCKCTL" udp-send -w 2 --replies 1 ::1 "$port" six
	assert_success
	assert_output "six"
	grep -q "datagram of 4 bytes from 127.0.0.1:" srv.err
	grep -q "datagram of 3 bytes from \[::1\]:" srv.err
}

@test "chat serve :: and '*': IPv4 and IPv6 clients in one room, IPv4 shown as IPv4" {
	local i addrs=(:: '*')
	for i in 0 1; do
		chat_serve "srv$i" --show-addresses "${addrs[i]}"
		[[ $addr == "[::]:$port" ]]
		chat_start "four$i" nc -N 127.0.0.1 "$port"
		say "four$i" "/nick four"
		sees "four$i" "*** you are now four"
		chat_start "six$i" nc -N ::1 "$port"
		say "six$i" "/nick six" "hello over IPv6"
		sees "four$i" "<six> hello over IPv6"
		say "four$i" "/who"
		sees "four$i" "*** in lobby: "
		grep -q "four (127.0.0.1:[0-9]*)" "four$i.out"
		grep -q "six (\[::1\]:[0-9]*)" "four$i.out"
		run grep -c ffff "four$i.out"
		[ "$output" = 0 ]
	done
}

@test "http serve :: and '*': both families; the access log shows 127.0.0.1" {
	printf 'hello\n' >a.txt
	local i n addrs=(:: '*')
	for i in 0 1; do
		start_bg "http$i" "$SOCKCTL" http serve -d . "${addrs[i]}" 0
		wait_ready "http$i"
		[[ $addr == "[::]:$port" ]]
		run timeout "$T" curl -sS "http://127.0.0.1:$port/a.txt"
		assert_output "hello"
		run timeout "$T" curl -sS -g "http://[::1]:$port/a.txt"
		assert_output "hello"
		wait_file_contains "http$i.out" '"GET /a.txt HTTP/1.1" 200' "$T"
		# Both lines are there (the log is written as requests end).
		for ((n = 0; n < 500; n++)); do
			[ "$(grep -c '"GET /a.txt' "http$i.out")" -ge 2 ] && break
			sleep 0.01
		done
		[ "$(grep -c '^127\.0\.0\.1 .*"GET /a.txt' "http$i.out")" -eq 1 ]
		[ "$(grep -c '^::1 .*"GET /a.txt' "http$i.out")" -eq 1 ]
	done
}

# hold NAME: 24 IPv4 connections to $port held open, each after one
# exchange.
hold() {
	"$PY" - "$port" <<'EOF' >"$1.conns" &
import socket, sys, time
socks = []
for i in range(24):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    if not s.recv(4096):
        sys.exit("connection %d closed" % i)
    socks.append(s)
print("open", flush=True)
time.sleep(30)
EOF
	_bg_pids+=("$!")
	wait_file_contains "$1.conns" open
}

# holders: how many processes have the connections to $port.
holders() {
	ss -Htnp state established "( sport = :$port )" | grep -o 'pid=[0-9]*' | sort -u | wc -l
}

@test "serve and http serve --workers on ::: every worker takes IPv4 clients" {
	command -v ss >/dev/null || skip "ss (iproute2) is not installed"
	printf 'hello\n' >a.txt
	# The kernel spreads connections over the workers' sockets that take
	# IPv4; all 24 on one worker by chance: 2^-23.
	start_bg http "$SOCKCTL" http serve --workers=2 --idle-timeout=30 -d . :: 0
	wait_ready http
	hold http
	run holders
	[ "$output" -eq 2 ] || fail "IPv4 connections reached $output http worker(s)"
	serve_bg srv --workers=2 -k --echo ::
	hold srv
	run holders
	[ "$output" -eq 2 ] || fail "IPv4 connections reached $output serve worker(s)"
}

@test "serve '*' with IPv6 missing from the kernel: 0.0.0.0 instead" {
	command -v "${CC:-cc}" >/dev/null || skip "no C compiler for the socket() shim"
	# socket(AF_INET6) fails as on a kernel booted with ipv6.disable=1.
	cat >noipv6.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>
int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	if (domain == AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	return real(domain, type, protocol);
}
EOF
	"${CC:-cc}" -shared -fPIC -o noipv6.so noipv6.c -ldl || skip "cannot build the socket() shim"
	LD_PRELOAD=$PWD/noipv6.so "$SOCKCTL" --version >/dev/null 2>&1 ||
		skip "the binary does not take an LD_PRELOAD shim (sanitizer build?)"
	start_bg srv env LD_PRELOAD="$PWD/noipv6.so" "$SOCKCTL" serve --echo -k '*' 0
	wait_ready srv
	[[ $addr == "0.0.0.0:$port" ]]
	reaches 127.0.0.1
	# "::" itself cannot listen: one line, exit 1.
	run --separate-stderr env LD_PRELOAD="$PWD/noipv6.so" "$SOCKCTL" serve :: 0
	assert_failure 1
	[[ $stderr == "sockctl: listen [::]:0: Address family not supported by protocol" ]]
}

@test "serve '*' in a network namespace with IPv6 disabled still takes IPv4" {
	unshare -rn true 2>/dev/null ||
		skip "user/network namespaces are unavailable here (unshare -rn failed)"
	cat >ns.sh <<'EOF'
set -e
ip link set lo up
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/lo/disable_ipv6
"$1" serve --echo -k '*' 0 2>srv.err &
for i in $(seq 500); do grep -q 'listening on' srv.err 2>/dev/null && break; sleep 0.01; done
line=$(grep 'listening on' srv.err)
echo "$line"
port=${line##*:}
port=${port%% *}
echo hi | timeout 10 "$1" connect 127.0.0.1 "$port"
kill %1
EOF
	run timeout "$T" unshare -rn bash ns.sh "$SOCKCTL"
	assert_success
	assert_line --index 0 --regexp '^sockctl: listening on (\[::\]|0\.0\.0\.0):[0-9]+ '
	assert_line --index 1 "hi"
}

@test "serve '*' when IPv6 has the port: an error, not an IPv4-only listener" {
	# An IPv6-only socket holds [::]:PORT (as ncat -l :: does).
	"$PY" - <<'EOF' >holder.out &
import socket, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(30)
EOF
	_bg_pids+=("$!")
	local p i
	for ((i = 0; i < 500; i++)); do
		p=$(cat holder.out 2>/dev/null || true)
		[[ -n $p ]] && break
		sleep 0.01
	done
	run --separate-stderr timeout "$T" "$SOCKCTL" serve '*' "$p"
	assert_failure 1
	[ "$stderr" = "sockctl: listen [::]:$p: Address already in use" ]
}
