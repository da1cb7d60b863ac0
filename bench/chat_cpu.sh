#!/usr/bin/env bash
# Chat fan-out cost on the server: CLIENTS (200) receivers and one sender
# (bench/chatload.c) in one room, LINES lines from the sender to every
# receiver, against `ncat --chat -m 1000` and `sockctl chat serve
# --flood=0` on each mux backend (and BASELINE's), all in the same run.
# Every server starts once and serves the whole series; the runs are
# interleaved (per repeat, per count of lines, every server in turn, the
# sockctl and BASELINE runs of a backend side by side, which of them goes
# first alternating), so load drifting on this shared machine hits all
# alike. Per server and count of lines, the median over REPEAT (3) runs of
#   lines/CPU-s   lines delivered per second of server CPU (user+sys) in
#                 the burst, the server's CPU clock read by chatload -p as
#                 the first line goes out and as the last one arrives
#   (run)         the same over the whole run, the joins and leaves of the
#                 200 clients included: the server's threads' CPU time in
#                 /proc/PID/task/*/schedstat (nanoseconds; /proc/PID/stat
#                 has 10 ms ticks) before the load connects and once the
#                 server has closed all it left; neither counts the load
#                 generator's CPU
#   lines/s       wall clock: lines delivered per second of the burst
# and the ratios against ncat in the same run. A run that did not deliver
# every line to every receiver in order (complete=no, order=bad, a stall
# past DEADLINE) is marked "!" among the runs, listed at the end and never
# counted: a median over fewer runs says so, "(2/3)".
#
#   bench/chat_cpu.sh                   # 1000, 10000 and 20000 lines
#   bench/chat_cpu.sh 500 2000          # other counts of lines
#   BASELINE=/tmp/old/sockctl MUXES=epoll REPEAT=5 bench/chat_cpu.sh
# Also: CLIENTS; SIZE, bytes a line (60); WINDOW, how many lines the sender
# may run ahead of the slowest receiver (1000; 0: no limit): sockctl drops
# a client whose output queue (--queue, 256 KiB) is full, so a sender that
# outruns every reader would measure dropping, not relaying; DEADLINE, s
# a run (60); PIN=0: no pinning (default: server on core 0, load on 1).
# shellcheck source=bench/lib.sh disable=SC2154,SC2034,SC2086 # set by lib.sh; $ON_SERVER, $ON_LOAD and the commands are word lists
. "$(dirname "$0")/lib.sh"
need ncat taskset
: "${CLIENTS:=200}"
: "${SIZE:=60}"
: "${WINDOW:=1000}"
: "${DEADLINE:=60}"
: "${MUXES:=select poll epoll}"
COUNTS=("$@")
[ $# -gt 0 ] || COUNTS=(1000 10000 20000)
[ -z "${BASELINE:-}" ] || [ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not an executable"
build_tools chatload

NAMES=(ncat)
declare -A CMD=([ncat]="ncat --chat -m 1000 -l 127.0.0.1 PORT") LABEL=([ncat]="ncat --chat -m 1000")
for mux in $MUXES; do
	for who in sockctl ${BASELINE:+baseline}; do
		n=${who}_$mux bin=$SOCKCTL
		[ "$who" = baseline ] && bin=$BASELINE
		NAMES+=("$n")
		CMD[$n]="$bin --mux=$mux chat serve --flood=0 --max-clients=1000 0"
		LABEL[$n]="$who mux=$mux"
	done
done

# Every server up for the whole series (stdin: /dev/null, as for any
# background job of a script); the room they show goes to /dev/null.
declare -A PID PORT IDLE
for n in "${NAMES[@]}"; do
	if [ "$n" = ncat ]; then
		p=$(free_port)
		BG_STDOUT=/dev/null bg "$n" $ON_SERVER ${CMD[$n]//PORT/$p}
		wait_listen "$p"
		port=$p
	else
		BG_STDOUT=/dev/null bg "$n" $ON_SERVER ${CMD[$n]}
		wait_ready "$n"
	fi
	pv=${n}_pid
	PID[$n]=${!pv} PORT[$n]=$port IDLE[$n]=$(open_fds "${!pv}")
done

# one NAME LINES: one run; prints "ok|fail lines/s lines/CPU-s run-lines/CPU-s".
one() {
	local n=$1 pid=${PID[$1]} out rc c0 c1
	if ! wait_fds "$pid" "${IDLE[$n]}" 10; then
		kill -0 "$pid" 2>/dev/null && out="still busy with the last run after 10 s" ||
			out="server exited: $(tail -n 1 "$TMP/$n.err")"
		echo "${LABEL[$n]}, $2 lines: $out" >>"$TMP/failed"
		echo "fail 0 0 0"
		return
	fi
	c0=$(cpu_ns "$pid")
	out=$(timeout $((DEADLINE + 30)) $ON_LOAD "$TMP/chatload" -c "$CLIENTS" -n "$2" -l "$SIZE" \
		-W "$WINDOW" -t "$DEADLINE" -p "$pid" "${PORT[$n]}" 2>"$TMP/load.err")
	rc=$?
	wait_fds "$pid" "${IDLE[$n]}" 10
	c1=$(cpu_ns "$pid")
	[ "$rc" = 0 ] || echo "${LABEL[$n]}, $2 lines: exit $rc: ${out:-no result}" \
		"$(tr '\n' ' ' <"$TMP/load.err")" >>"$TMP/failed"
	awk -v rc="$rc" -v t=$((c1 - c0)) -v line="$out" 'BEGIN {
		n = split(line, kv, /[ =]/)
		for (i = 1; i < n; i += 2) f[kv[i]] = kv[i + 1]
		ok = rc == 0 && f["complete"] == "yes" && f["order"] == "ok" && f["server_cpu"] > 0
		printf "%s %.0f %.0f %.0f\n", ok ? "ok" : "fail", f["rate"],
			(ok ? f["delivered"] / f["server_cpu"] : 0), (ok && t > 0 ? f["delivered"] * 1e9 / t : 0) }'
}

# med KEY: the median of the good runs in list KEY, whole, or "-".
med() {
	local v=${!1:-}
	if [ -n "$v" ]; then printf '%.0f\n' "$(median $v)"; else echo -; fi
}
# rat A B: A/B, or "n/a" when either is missing.
rat() {
	if [ "$1" = - ] || [ "$2" = - ]; then echo n/a; else ratio "$1" "$2"; fi
}

machine
echo "# chat fan-out: $CLIENTS receivers and one sender, $SIZE-byte lines, window $WINDOW lines," \
	"median of $REPEAT (good runs only); server ${ON_SERVER:-unpinned}, load ${ON_LOAD:-unpinned}"
echo "# sockctl: $("$SOCKCTL" --version 2>&1 | head -n 1) at $SOCKCTL"
[ -z "${BASELINE:-}" ] || echo "# baseline: $("$BASELINE" --version 2>&1 | head -n 1) at $BASELINE"
declare -A wall cpu run all good
for ((r = 0; r < REPEAT; r++)); do
	for count in "${COUNTS[@]}"; do
		order=("${NAMES[@]}")
		if ((r % 2)) && [ -n "${BASELINE:-}" ]; then
			# Odd repeats: baseline before sockctl on each backend.
			order=(ncat)
			for mux in $MUXES; do order+=("baseline_$mux" "sockctl_$mux"); done
		fi
		for n in "${order[@]}"; do
			read -r res w c u < <(one "$n" "$count")
			k="$n,$count"
			if [ "$res" = ok ]; then
				wall[$k]+="$w " cpu[$k]+="$c " run[$k]+="$u " all[$k]+="$c "
				good[$k]=$((${good[$k]:-0} + 1))
			else
				all[$k]+="! "
			fi
		done
	done
done

for count in "${COUNTS[@]}"; do
	echo
	echo "== $count lines x $CLIENTS receivers ($((count * CLIENTS)) deliveries a run)"
	printf '  %-22s %12s %12s %12s %8s %8s   %s\n' server lines/CPU-s "(run)" lines/s \
		"CPU/ncat" "wall/ncat" "runs (lines/CPU-s, ! = failed)"
	kn="ncat,$count"
	nc_cpu=$(med "cpu[$kn]") nc_wall=$(med "wall[$kn]")
	for n in "${NAMES[@]}"; do
		k="$n,$count"
		c=$(med "cpu[$k]") w=$(med "wall[$k]") u=$(med "run[$k]")
		note=
		[ "${good[$k]:-0}" = "$REPEAT" ] || note=" (${good[$k]:-0}/$REPEAT)"
		printf '  %-22s %12s %12s %12s %8s %8s   %s%s\n' "${LABEL[$n]}" "$c" "$u" "$w" \
			"$(rat "$c" "$nc_cpu")" "$(rat "$w" "$nc_wall")" "${all[$k]% }" "$note"
	done
	if [ -n "${BASELINE:-}" ]; then
		echo "  sockctl / baseline, same run (> 1: sockctl relays more lines per CPU-second, per second):"
		for mux in $MUXES; do
			a="sockctl_$mux,$count" b="baseline_$mux,$count"
			printf '    mux=%-7s CPU %6sx   run %6sx   wall %6sx\n' "$mux" \
				"$(rat "$(med "cpu[$a]")" "$(med "cpu[$b]")")" \
				"$(rat "$(med "run[$a]")" "$(med "run[$b]")")" \
				"$(rat "$(med "wall[$a]")" "$(med "wall[$b]")")"
		done
	fi
done
if [ -s "$TMP/failed" ]; then
	echo
	echo "failed runs:"
	sed 's/^/  /' "$TMP/failed"
fi
machine
