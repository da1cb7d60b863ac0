#!/bin/sh
# Chat fan-out: CLIENTS receivers and one sender in one room, LINES lines
# delivered to every receiver; lines delivered per second, sockctl chat
# serve (each mux backend) against ncat --chat in the same run. Then the
# same with one extra client that never reads: sockctl should stay near
# its unstalled rate (it drops that client), ncat stalls.
#   bench/chat.sh [CLIENTS [LINES]]     (run by hand, not by make check)
# BASELINE=path/to/older/sockctl adds its rows, for before/after figures
# from the same run; MUXES="epoll" limits the backends.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SOCKCTL=${SOCKCTL:-$here/../sockctl}
clients=${1:-200}
lines=${2:-1000}
limit=${LIMIT:-20}
reps=${REPS:-3} # best of REPS runs: the machine is shared and noisy
driver="python3 $here/chat_fanout.py"
command -v ncat >/dev/null || { echo "ncat is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run NAME STALLED CMD...: starts the server CMD (port substituted for
# PORT), runs the driver, prints "NAME rate complete".
run() {
	name=$1 stalled=$2
	shift 2
	port=$(free_port)
	args=
	for a in "$@"; do [ "$a" = PORT ] && a=$port; args="$args $a"; done
	# shellcheck disable=SC2086
	$args </dev/null >/dev/null 2>"$tmp/err" &
	pid=$!
	i=0
	until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port)).close()" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "$name did not start:" >&2; cat "$tmp/err" >&2; exit 1; }
		sleep 0.1
	done
	best=0 bestout=
	r=0
	while [ $r -lt "$reps" ]; do
		out=$($driver 127.0.0.1 "$port" "$clients" "$lines" "$stalled" "$limit" 2>&1) || true
		rate=$(echo "$out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
		if [ -n "$rate" ] && [ "$rate" -gt "$best" ]; then best=$rate bestout=$out; fi
		[ -n "$bestout" ] || bestout=$out
		r=$((r + 1))
	done
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	pid=
	complete=$(echo "$bestout" | sed -n 's/.*complete=\([a-z]*\).*/\1/p')
	delivered=$(echo "$bestout" | sed -n 's/.*delivered=\([0-9]*\).*/\1/p')
	[ -n "$complete" ] || complete="error:$(echo "$bestout" | tr ' ' _)"
	echo "$name $best ${delivered:-0} $complete"
}

echo "chat fan-out: $clients receivers x $lines lines, one sender ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-22s %12s %12s %9s %s\n' server lines/s delivered "vs ncat" complete
for stalled in 0 1; do
	[ $stalled = 1 ] && echo "-- with one client that never reads --"
	set -- $(run ncat $stalled ncat --chat -m 1000 -l 127.0.0.1 PORT)
	ncat_rate=$2
	printf '%-22s %12s %12s %9s %s\n' "ncat --chat" "$2" "$3" "1.00" "$4"
	for mux in ${MUXES:-select poll epoll}; do
		for bin in "$SOCKCTL" ${BASELINE:-}; do
			label="sockctl mux=$mux"
			[ "$bin" = "$SOCKCTL" ] || label="baseline mux=$mux"
			set -- $(run "$mux" $stalled "$bin" --mux="$mux" chat serve --flood=0 \
				--max-clients=1000 127.0.0.1 PORT)
			ratio=$(awk -v a="$2" -v b="$ncat_rate" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')
			printf '%-22s %12s %12s %9s %s\n' "$label" "$2" "$3" "$ratio" "$4"
		done
	done
done
