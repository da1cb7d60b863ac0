# shellcheck shell=bash disable=SC2034 # variables set here for the scripts
# Shared helpers for the bench/ scripts (sourced, not run).
# The scripts run by hand, never from make check; the peers they compare
# against are installed by build-aux/install-deps.sh.

set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SOCKCTL:=$BENCH_DIR/../sockctl}"
: "${REPEAT:=3}"

_pids=()
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockctl-bench.XXXXXX")
cleanup() {
	local p
	for p in "${_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	exit 1
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null ||
			die "$c not found: run build-aux/install-deps.sh"
	done
}

[ -x "$SOCKCTL" ] || die "no sockctl binary at $SOCKCTL (build first, or set SOCKCTL)"

# bg NAME CMD...: starts CMD in the background (stdout/stderr to
# $TMP/NAME.out, .err; BG_STDOUT=FILE bg ...: stdout to FILE); its pid goes
# to $NAME_pid and is killed at exit.
bg() {
	local name=$1
	shift
	# The redirections below truncate in the child, after the fork: until
	# then wait_ready could read the last server's line under this name.
	: >"$TMP/$name.err"
	"$@" >"${BG_STDOUT:-$TMP/$name.out}" 2>"$TMP/$name.err" &
	_pids+=("$!")
	printf -v "${name}_pid" %s "$!"
}

# free_port: prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_listen PORT: waits (at most 10 s) until something listens on PORT.
wait_listen() {
	local i
	for ((i = 0; i < 1000; i++)); do
		ss -Htln "sport = :$1" | grep -q . && return 0
		sleep 0.01
	done
	die "nothing listens on port $1 after 10 s"
}

# wait_ready NAME: waits for sockctl's readiness line in $TMP/NAME.err and
# sets $port from it.
wait_ready() {
	local i line pidvar="${1}_pid"
	for ((i = 0; i < 1000; i++)); do
		line=$(grep -m1 'listening on ' "$TMP/$1.err" 2>/dev/null)
		if [ -n "$line" ]; then
			line=${line#*listening on }
			line=${line%% (*}
			port=${line##*:}
			return 0
		fi
		kill -0 "${!pidvar}" 2>/dev/null || die "$1 exited: $(cat "$TMP/$1.err")"
		sleep 0.01
	done
	die "$1 not ready after 10 s"
}

# wait_pid PID SECS: waits for PID to end, at most SECS; fails on timeout.
wait_pid() {
	local i
	for ((i = 0; i < $2 * 100; i++)); do
		kill -0 "$1" 2>/dev/null || {
			wait "$1" 2>/dev/null
			return
		}
		sleep 0.01
	done
	kill "$1" 2>/dev/null
	return 124
}

# wait_fds PID N SECS: waits until PID holds at most N open descriptors
# (a server has closed what the last run left it), at most SECS.
wait_fds() {
	local i
	for ((i = 0; i < $3 * 100; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		[ "$(open_fds "$1")" -le "$2" ] && return 0
		sleep 0.01
	done
	return 124
}

# open_fds PID: how many descriptors PID holds.
open_fds() {
	local f=(/proc/"$1"/fd/*)
	echo "${#f[@]}"
}

now() { echo "$EPOCHREALTIME"; }

# median V...: the median of the numbers given.
median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
		if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2];
		else printf "%.10g\n", (v[NR/2]+v[NR/2+1])/2 }'
}

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a/b; else print "n/a" }'; }

# machine: one line on the load the shared machine was under.
machine() {
	echo "# $(date -u '+%F %T') UTC, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# children_cpu VAR: sets VAR to the user+sys seconds of this shell's
# reaped children so far (times must run in this shell, not in a $(...)).
children_cpu() {
	times >"$TMP/times"
	printf -v "$1" %s "$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
		printf "%.4f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$TMP/times")"
}

# xfer FILE BYTES SERVER CLIENT: one transfer with PORT substituted in the
# commands; the server's output goes to XFER_OUT (default /dev/null).
# Prints "GiB/s CPU-s/GiB". Runs in a $(...) subshell, so times counts
# only what it starts. A sockctl server ($SOCKCTL or $BASELINE, run with
# -v) is found by its readiness line and must report every byte received.
xfer() {
	local in=$1 bytes=$2 srv=$3 cli=$4 p sp t0 t1 c0 c1 rc ours=
	[[ $srv == "$SOCKCTL "* || (-n ${BASELINE:-} && $srv == "$BASELINE "*) ]] && ours=1
	p=$(free_port)
	: >"$TMP/srv.err" # truncated in the child only after the fork
	eval "timeout 120 ${srv//PORT/$p}" </dev/null >"${XFER_OUT:-/dev/null}" 2>"$TMP/srv.err" &
	sp=$!
	_pids+=("$sp")
	if [ -n "$ours" ]; then
		srv_pid=$sp
		wait_ready srv
		p=$port
	else
		wait_listen "$p"
	fi
	children_cpu c0
	t0=$(now)
	eval "timeout 120 ${cli//PORT/$p}" <"$in" >/dev/null 2>"$TMP/cli.err" ||
		die "client failed ($?): $cli: $(cat "$TMP/cli.err")"
	wait "$sp" || die "server failed: $srv: $(cat "$TMP/srv.err")"
	t1=$(now)
	children_cpu c1
	if [ -n "$ours" ]; then
		rc=$(sed -n 's/.*; received \([0-9]*\) bytes.*/\1/p' "$TMP/srv.err")
		[ "$rc" = "$bytes" ] || die "sockctl serve received ${rc:-?} of $bytes bytes"
	fi
	awk -v t="$t1" -v t0="$t0" -v c="$c1" -v c0="$c0" -v b="$bytes" \
		'BEGIN { g = b / 2^30; printf "%.3f %.3f\n", g / (t - t0), (c - c0) / g }'
}

# build_tools [NAME...]: compiles bench/NAME.c into $TMP/NAME (cc -O2);
# by default the reference echo server and the echo load generator.
build_tools() {
	local t tools=("$@")
	[ $# -gt 0 ] || tools=(echo_ref echoload)
	need cc
	for t in "${tools[@]}"; do
		local libs=()
		# echoload -T speaks TLS.
		[ "$t" = echoload ] && libs=(-lssl -lcrypto)
		cc -O2 -o "$TMP/$t" "$BENCH_DIR/$t.c" "${libs[@]}" || die "cannot build $t"
	done
}

# Where the server and the load generator run: one core each, so they do
# not take turns on one core (PIN=0 lets the scheduler decide).
: "${PIN:=1}"
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	ON_SERVER="taskset -c 0" ON_LOAD="taskset -c 1"
else
	ON_SERVER="" ON_LOAD=""
fi

# rss_kb PID [FIELD]: VmRSS (or FIELD, e.g. VmHWM) of PID in KiB.
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"; }

# tree_cpu_ticks PID: CPU clock ticks (user+sys) used by PID, its reaped
# children and its live children (ncat -e runs one process per connection).
tree_cpu_ticks() {
	local t=0 c
	for c in "$1" $(pgrep -P "$1"); do
		t=$((t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# cpu_ns PID: CPU nanoseconds (user+sys) used by the threads of PID that
# are alive: /proc/PID/task/*/schedstat. /proc/PID/stat counts the same
# in clock ticks (10 ms), too coarse for runs of a few tens of ms.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f\n", t }'
}

# echo_load NAME [ECHOLOAD-FLAGS...]: bench/echoload (build_tools) with
# $CONNS connections for $SECS s against $port, the server being $srv_pid
# (bg srv ...); then stops the server and prints "trips/s CPU-us/trip",
# the CPU being the server's (its whole process tree).
echo_load() {
	local name=$1 out c0 c1
	shift
	c0=$(tree_cpu_ticks "$srv_pid")
	# shellcheck disable=SC2086 # ON_LOAD: words
	out=$(timeout $((SECS + 30)) $ON_LOAD "$TMP/echoload" "$@" -c "$CONNS" -t "$SECS" "$port") ||
		die "$name: load generator failed: $(cat "$TMP/srv.err")"
	c1=$(tree_cpu_ticks "$srv_pid")
	kill "$srv_pid"
	wait "$srv_pid" 2>/dev/null
	# shellcheck disable=SC2086 # "rate R conns N ... roundtrips T"
	set -- $out
	awk -v r="$2" -v t="${10}" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%s %.2f\n", r, c / hz * 1e6 / t }'
}
