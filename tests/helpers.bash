# Shared bats helpers: start servers on port 0, read the readiness line,
# always clean up. Load with `load helpers` at the top of a .bats file.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${SOCKCTL:=$BATS_TEST_DIRNAME/../sockctl}"
# Debian's python3 (a version manager's shim on PATH can take seconds to
# start, or not start at all under bats).
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
# Big transfers are divided by this (check-sanitize sets 8: the sanitized
# binary is several times slower and the point there is memory safety).
SCALE=${SOCKCTL_TEST_SCALE:-1}
MIB64=$((64 * 1024 * 1024 / SCALE))
# How long a client may run before the test calls it a hang.
T=${SOCKCTL_TEST_TIMEOUT:-20}

_bg_pids=()

# _bg_fresh NAME: empties NAME.out and NAME.err before a background start.
# The redirections of `cmd >NAME.err &` truncate in the child, after the
# fork: until then the parent could still read an earlier server's
# readiness line (and its dead port) from the same file.
_bg_fresh() {
	: >"$BATS_TEST_TMPDIR/$1.out"
	: >"$BATS_TEST_TMPDIR/$1.err"
}

# start_bg NAME CMD...: runs CMD in the background with stdout and stderr
# in $BATS_TEST_TMPDIR/NAME.out and NAME.err; its pid is in $NAME_pid
# (through the bg_pid function) and it is killed in teardown.
start_bg() {
	local name=$1
	shift
	_bg_fresh "$name"
	# Fds 7-9 are the tests' fifo writers: a child must not hold them, or
	# the reader never sees EOF.
	"$@" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" 7>&- 8>&- 9>&- &
	local pid=$!
	_bg_pids+=("$pid")
	eval "${name}_pid=$pid"
}

# start_bg_stdin NAME INPUTFILE CMD...: the same with stdin from a file
# (or a fifo).
start_bg_stdin() {
	local name=$1 input=$2
	shift 2
	_bg_fresh "$name"
	"$@" <"$input" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" 7>&- 8>&- 9>&- &
	local pid=$!
	_bg_pids+=("$pid")
	eval "${name}_pid=$pid"
}

# wait_ready NAME: waits (at most 10 s) for the readiness line in NAME.err,
# then sets $port (and $addr) from it. Fails with the server's stderr.
wait_ready() {
	local name=$1 f="$BATS_TEST_TMPDIR/$1.err" i line
	for ((i = 0; i < 1000; i++)); do
		line=$(grep -m1 -E 'listening on ' "$f" 2>/dev/null || true)
		if [[ -n "$line" ]]; then
			addr=${line#*listening on }
			addr=${addr%% (*}
			port=${addr##*:}
			return 0
		fi
		local pidvar="${name}_pid"
		if ! kill -0 "${!pidvar}" 2>/dev/null; then
			echo "server '$name' exited before it was ready:" >&2
			cat "$f" >&2
			return 1
		fi
		sleep 0.01
	done
	echo "server '$name' not ready after 10 s:" >&2
	cat "$f" >&2
	return 1
}

# serve_bg NAME ARGS...: starts `sockctl serve ARGS` and waits for
# readiness; port 0 is added unless the last argument is a port or -U is
# given.
serve_bg() {
	local name=$1
	shift
	local a add=1
	for a in "$@"; do [[ $a == -U ]] && add=0; done
	[[ $# -gt 0 && ${!#} =~ ^[0-9]+$ ]] && add=0
	if ((add)); then set -- "$@" 0; fi
	start_bg "$name" "$SOCKCTL" serve "$@"
	wait_ready "$name"
}

# wait_listen PORT: waits (at most 10 s) until something listens on 127.0.0.1:PORT.
wait_listen() {
	local i
	for ((i = 0; i < 1000; i++)); do
		ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.01
	done
	return 1
}

# wait_exit PID [SECONDS]: waits for a background process to end, at most
# SECONDS (default $T); sets $status to its exit status, fails on timeout.
wait_exit() {
	local pid=$1 limit=${2:-$T} i
	for ((i = 0; i < limit * 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			status=0
			wait "$pid" || status=$?
			return 0
		fi
		sleep 0.01
	done
	echo "process $pid still running after $limit s" >&2
	return 1
}

# wait_file_contains FILE TEXT [SECONDS]: polls until FILE holds TEXT.
wait_file_contains() {
	local f=$1 text=$2 limit=${3:-20} i
	for ((i = 0; i < limit * 100; i++)); do
		grep -qF -- "$text" "$f" 2>/dev/null && return 0
		sleep 0.01
	done
	echo "'$text' never appeared in $f; it holds:" >&2
	cat "$f" >&2
	local e
	for e in "$BATS_TEST_TMPDIR"/*.err; do
		[[ -s $e ]] && { echo "--- $e:" >&2; tail -20 "$e" >&2; }
	done
	return 1
}

# free_port: a port nothing listens on (bound then released).
free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

teardown_common() {
	local p
	for p in "${_bg_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${_bg_pids[@]}"; do
		# Give each a moment, then insist.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.02
		done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	_bg_pids=()
}

teardown() {
	teardown_common
}
