#!/usr/bin/env bash
# Waiting for many services: `sockctl wait` over N loopback ports (all
# probed at once on one loop) against the shell loop scripts use today,
# `until nc -z HOST PORT; do sleep 0.25; done` for each target in turn,
# over the same ports in the same run, interleaved:
#   open   every port listens already (the cost of checking)
#   late   the ports start listening DELAY seconds after the waiters
#          start (one process holds them all bound and listens on every
#          one at once); sockctl with its default backoff (the pauses
#          have grown by then) and with the loop's fixed 0.25 s pause
#
#   bench/wait.sh                       # N=100, DELAY=1, 3 runs
#   REPEAT=5 N=200 DELAY=2 bench/wait.sh
#   BASELINE=/path/to/other/sockctl bench/wait.sh
#
# Uses bench/lib.sh (helpers shared by the benchmarks).
# shellcheck source=bench/lib.sh disable=SC2154,SC2034,SC2086 # set by lib.sh; word splitting of commands is meant
. "$(dirname "$0")/lib.sh"
need nc python3
: "${N:=100}" "${DELAY:=1}"
: "${BASELINE:=}"

# ports NAME DELAY: N bound TCP sockets on 127.0.0.1 that listen DELAY
# seconds after the file $TMP/NAME.go appears (0: at once); their
# "127.0.0.1:PORT" words in $TMP/NAME.out.
ports() {
	bg "$1" python3 -c '
import os, socket, sys, time
n, delay, go = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
socks = [socket.socket() for _ in range(n)]
for s in socks:
    s.bind(("127.0.0.1", 0))
    if delay == 0:
        s.listen(64)
print(" ".join("127.0.0.1:%d" % s.getsockname()[1] for s in socks), flush=True)
if delay > 0:
    while not os.path.exists(go):
        time.sleep(0.001)
    time.sleep(delay)
    for s in socks:
        s.listen(64)
time.sleep(3600)
' "$N" "$2" "$TMP/$1.go"
	local i
	for ((i = 0; i < 500; i++)); do
		[ -s "$TMP/$1.out" ] && return 0
		sleep 0.01
	done
	die "the $N ports did not come up"
}

nc_loop() {
	local t
	for t in "$@"; do
		until nc -z "${t%:*}" "${t##*:}" 2>/dev/null; do sleep 0.25; done
	done
}

# secs_late NAME CMD...: starts the late ports NAME, then CMD; the wall
# seconds CMD took, its start being when the ports' clock starts.
secs_late() {
	local name=$1 t0 t1
	shift
	ports "$name" "$DELAY"
	local targets
	read -ra targets <"$TMP/$name.out"
	t0=$(now)
	touch "$TMP/$name.go"
	"$@" "${targets[@]}" >/dev/null 2>&1 || die "$* failed"
	t1=$(now)
	kill "$(eval echo "\$${name}_pid")" 2>/dev/null
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

secs_open() {
	local t0 t1
	t0=$(now)
	"$@" "${OPEN[@]}" >/dev/null 2>&1 || die "$* failed"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

machine
ports open 0
read -ra OPEN <"$TMP/open.out"
declare -a s_o=() n_o=() b_o=() s_l=() f_l=() n_l=() b_l=()
W=("$SOCKCTL" wait -t 60)
# The loop's policy: a fixed 0.25 s pause.
F=("$SOCKCTL" wait -t 60 -i 0.25 --max-interval 0.25)
B=("$BASELINE" wait -t 60)
for ((r = 0; r < REPEAT; r++)); do
	s_o+=("$(secs_open "${W[@]}")")
	n_o+=("$(secs_open nc_loop)")
	[ -n "$BASELINE" ] && b_o+=("$(secs_open "${B[@]}")")
	s_l+=("$(secs_late "s$r" "${W[@]}")")
	f_l+=("$(secs_late "f$r" "${F[@]}")")
	n_l+=("$(secs_late "n$r" nc_loop)")
	[ -n "$BASELINE" ] && b_l+=("$(secs_late "b$r" "${B[@]}")")
done
echo "# $N ports listening already, median of $REPEAT runs"
mo=$(median "${s_o[@]}")
no=$(median "${n_o[@]}")
printf '  %-48s %8ss   %s\n' "sockctl wait (all at once)" "$mo" "${s_o[*]}"
printf '  %-48s %8ss   %s\n' "until nc -z ...; do sleep 0.25; done, each" "$no" "${n_o[*]}"
[ -n "$BASELINE" ] && printf '  %-48s %8ss   %s\n' "baseline sockctl wait" "$(median "${b_o[@]}")" "${b_o[*]}"
echo "  speed-up: $(ratio "$no" "$mo")x"
echo "# $N ports that listen $DELAY s after the start, median of $REPEAT runs"
ml=$(median "${s_l[@]}")
nl=$(median "${n_l[@]}")
fl=$(median "${f_l[@]}")
printf '  %-48s %8ss   %s\n' "sockctl wait (default backoff: 0.25 s .. 2 s)" "$ml" "${s_l[*]}"
printf '  %-48s %8ss   %s\n' "sockctl wait -i 0.25 --max-interval 0.25" "$fl" "${f_l[*]}"
printf '  %-48s %8ss   %s\n' "until nc -z ...; do sleep 0.25; done, each" "$nl" "${n_l[*]}"
[ -n "$BASELINE" ] && printf '  %-48s %8ss   %s\n' "baseline sockctl wait" "$(median "${b_l[@]}")" "${b_l[*]}"
echo "  beyond the $DELAY s: sockctl $(awk -v a="$ml" -v d="$DELAY" 'BEGIN { printf "%.3f", a - d }') s," \
	"with a fixed 0.25 s pause $(awk -v a="$fl" -v d="$DELAY" 'BEGIN { printf "%.3f", a - d }') s," \
	"nc loop $(awk -v a="$nl" -v d="$DELAY" 'BEGIN { printf "%.3f", a - d }') s"
