#!/usr/bin/env bash
# udp-send as a packet generator: COUNT datagrams of SIZE bytes to a local
# discard sink (`sockctl serve -u --discard`), against socat's copy loop
# (one datagram per SIZE-byte read of its stdin) and `iperf3 -u -l SIZE
# -b 0`, in the same run. Prints the median datagrams per second of REPEAT
# runs and the ratios. Run by hand from the build directory:
#   bench/udp_send.sh                 (COUNT=1000000 SIZE=64 REPEAT=3)
# BASELINE=path/to/older/sockctl adds its row, measured in the same runs,
# and the ratio of the two, for before/after figures.
# shellcheck source=bench/lib.sh disable=SC2086 # $ON_SERVER/$ON_LOAD are word lists
. "$(dirname "$0")/lib.sh"
: "${COUNT:=1000000}"
: "${SIZE:=64}"
need socat iperf3 ss python3 timeout
[ -z "${BASELINE:-}" ] || [ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not an executable"

bg sink $ON_SERVER "$SOCKCTL" serve -u --discard 0
wait_ready sink
sink_port=$port
bytes=$((COUNT * SIZE))

# Each sender's elapsed time covers start-up to exit (a few ms).
pps() { awk -v n="$COUNT" -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", n / (b - a) }'; }

# run_sockctl [BIN]: BIN (default $SOCKCTL) as the sender.
run_sockctl() {
	local t0 t1 bin=${1:-$SOCKCTL}
	t0=$(now)
	$ON_LOAD timeout 120 "$bin" udp-send -c "$COUNT" --size "$SIZE" 127.0.0.1 "$sink_port" ||
		die "udp-send failed"
	t1=$(now)
	pps "$t0" "$t1"
}

run_socat() {
	local t0 t1
	t0=$(now)
	head -c "$bytes" /dev/zero |
		$ON_LOAD timeout 120 socat -b "$SIZE" -u STDIN UDP-SENDTO:127.0.0.1:"$sink_port" ||
		die "socat failed"
	t1=$(now)
	pps "$t0" "$t1"
}

# iperf3 brings its own sink; its own figure for the sending phase is
# used (its control connection set-up is not counted).
run_iperf() {
	local p
	p=$(free_port)
	$ON_SERVER timeout 120 iperf3 -s -1 -p "$p" -B 127.0.0.1 >/dev/null 2>&1 &
	local spid=$!
	wait_listen "$p"
	$ON_LOAD timeout 120 iperf3 -u -c 127.0.0.1 -p "$p" -l "$SIZE" -b 0 -n "$bytes" -J |
		python3 -c 'import json, sys; s = json.load(sys.stdin)["end"]["sum"]; print(round(s["packets"] / s["seconds"]))'
	wait "$spid" 2>/dev/null
}

machine
[ -z "${BASELINE:-}" ] || echo "# baseline: $("$BASELINE" --version 2>&1 | head -n 1) at $BASELINE"
a=() b=() c=() z=()
for ((i = 1; i <= REPEAT; i++)); do
	a+=("$(run_sockctl)")
	[ -z "${BASELINE:-}" ] || z+=("$(run_sockctl "$BASELINE")")
	b+=("$(run_socat)")
	c+=("$(run_iperf)")
	echo "# run $i: sockctl ${a[-1]}${BASELINE:+  baseline ${z[-1]}}  socat ${b[-1]}  iperf3 ${c[-1]} datagrams/s" >&2
done
s=$(median "${a[@]}") t=$(median "${b[@]}") u=$(median "${c[@]}")
echo "udp-send: $COUNT datagrams of $SIZE bytes, median of $REPEAT runs"
printf '  %-36s %10s datagrams/s\n' "sockctl udp-send -c N --size $SIZE" "$s"
if [ -n "${BASELINE:-}" ]; then
	zb=$(median "${z[@]}")
	printf '  %-36s %10s datagrams/s\n' "baseline udp-send -c N --size $SIZE" "$zb"
fi
printf '  %-36s %10s datagrams/s\n' "socat -b $SIZE -u STDIN UDP-SENDTO" "$t"
printf '  %-36s %10s datagrams/s\n' "iperf3 -u -l $SIZE -b 0" "$u"
echo "  ratio sockctl/socat $(ratio "$s" "$t")   sockctl/iperf3 $(ratio "$s" "$u")"
[ -z "${BASELINE:-}" ] || echo "  ratio sockctl/baseline $(ratio "$s" "$zb")"
