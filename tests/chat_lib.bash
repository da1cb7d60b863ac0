# Helpers for the chat tests: a server, and clients fed through fifos that
# stay open until the test closes them.

# chat_serve NAME ARGS...: `sockctl chat serve ARGS 0` with stdin from
# NAME.in (a fifo held open on fd $NAME_fd), waits for readiness.
chat_serve() {
	local name=$1
	shift
	chat_start "$name" "$SOCKCTL" chat serve "$@" 0
	# wait_ready's `line=$(grep ...)` trips errexit when the line is not
	# there yet at the first look: wait for it here first.
	local i pidvar="${name}_pid"
	for ((i = 0; i < 1000; i++)); do
		grep -q 'listening on ' "$BATS_TEST_TMPDIR/$name.err" 2>/dev/null && break
		kill -0 "${!pidvar}" 2>/dev/null || break
		sleep 0.01
	done
	wait_ready "$name"
}

# chat_start NAME CMD...: runs CMD with stdin from the fifo NAME.in, which
# this shell holds open for writing on fd ${NAME}_fd.
chat_start() {
	local name=$1 fifo="$BATS_TEST_TMPDIR/$1.in" fd
	shift
	mkfifo "$fifo"
	# The writing ends held by this shell must not leak into the other
	# clients, or closing one would never reach its reader as EOF.
	start_bg_stdin "$name" "$fifo" env CHAT_FDS="${_chat_fds[*]}" bash -c \
		'for f in $CHAT_FDS; do eval "exec $f>&-"; done; exec timeout "$0" "$@"' "$T" "$@"
	exec {fd}>"$fifo"
	_chat_fds+=("$fd")
	eval "${name}_fd=$fd"
}
_chat_fds=()

# say NAME LINE...: sends lines to NAME's stdin.
say() {
	local name=$1 fdvar="${1}_fd"
	shift
	printf '%s\n' "$@" >&"${!fdvar}"
}

# hangup NAME: closes NAME's stdin.
hangup() {
	local fdvar="${1}_fd"
	eval "exec ${!fdvar}>&-"
}

# sees NAME TEXT: waits until NAME's stdout holds TEXT.
sees() {
	wait_file_contains "$BATS_TEST_TMPDIR/$1.out" "$2" "$T"
}

# never_saw NAME TEXT: NAME's stdout does not hold TEXT.
never_saw() {
	if grep -qF -- "$2" "$BATS_TEST_TMPDIR/$1.out"; then
		echo "$1 saw '$2':" >&2
		cat "$BATS_TEST_TMPDIR/$1.out" >&2
		return 1
	fi
}

# join NAME NICK [ARGS...]: a sockctl client named NICK, joined.
join() {
	local name=$1 nick=$2
	shift 2
	chat_start "$name" "$SOCKCTL" chat connect --name "$nick" "$@" 127.0.0.1 "$port"
	sees "$name" "*** you are now $nick"
}

# nc_join NAME NICK: a plain nc client that sets its nick.
nc_join() {
	chat_start "$1" nc -N 127.0.0.1 "$port"
	say "$1" "/nick $2"
	sees "$1" "*** you are now $2"
}
