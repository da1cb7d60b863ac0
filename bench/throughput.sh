#!/usr/bin/env bash
# Bulk throughput: a file through `sockctl connect` -> `sockctl serve` ->
# /dev/null, against OpenBSD nc, socat (-b 1 MiB and default) and
# iperf3 -l 1M (memory to memory: the practical limit of this loopback),
# all in the same run, the tools interleaved. Prints, per tool, the median
# over REPEAT runs of GiB/s (wall clock, client start to both ends exited)
# and of CPU seconds per GiB (user+sys of both ends: steadier than wall
# clock on a busy machine), then sockctl's ratios.
#
#   bench/throughput.sh            # 2 GiB, zero-filled file then random file
#   SIZE_MIB=512 REPEAT=5 FILES=zero bench/throughput.sh
#   BASELINE=/tmp/old/sockctl bench/throughput.sh
#
# BASELINE=path/to/older/sockctl measures that binary too (both ends, with
# and without --no-zero-copy), each run beside the new binary's (which
# goes first alternates between repeats); its rows and ratios, and the
# ratios new/baseline, are printed with the others.
#
# Targets: sockctl >= 2x OpenBSD nc and >= 1.0x socat -b 1048576.
# Default socat is ~10x slower than the rest: it moves SLOW_MIB (default
# SIZE_MIB/4) to keep the run short; rates do not depend on the size here.
# shellcheck source=bench/lib.sh disable=SC2154,SC2034 # srv_pid, port: set by lib.sh
. "$(dirname "$0")/lib.sh"
need nc socat iperf3 ss python3 timeout
: "${SIZE_MIB:=2048}"
: "${SLOW_MIB:=$((SIZE_MIB / 4))}"
: "${FILES:=zero random}"

iperf_gibs() {
	local p sp
	p=$(free_port)
	timeout 120 iperf3 -s -1 -p "$p" >/dev/null 2>&1 &
	sp=$!
	_pids+=("$sp")
	wait_listen "$p"
	timeout 120 iperf3 -c 127.0.0.1 -p "$p" -l 1M -n "$1" -J >"$TMP/iperf.json" 2>/dev/null
	wait "$sp"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["end"];
print("%.3f %.3f" % (d["sum_received"]["bits_per_second"] / 8 / 2**30,
	d["sum_received"]["seconds"] * (d["cpu_utilization_percent"]["host_total"] +
	d["cpu_utilization_percent"]["remote_total"]) / 100 / (d["sum_received"]["bytes"] / 2**30)))' "$TMP/iperf.json"
}

S=$SOCKCTL
NAMES=("sockctl" "sockctl --no-zero-copy" "OpenBSD nc -N" "socat -b 1048576" "socat (default)")
SRV=("$S serve -v 0" "$S serve -v --no-zero-copy 0" "nc -l 127.0.0.1 PORT"
	"socat -u -b 1048576 TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr STDOUT"
	"socat -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr STDOUT")
CLI=("$S connect 127.0.0.1 PORT" "$S connect --no-zero-copy 127.0.0.1 PORT"
	"nc -N 127.0.0.1 PORT" "socat -u -b 1048576 STDIN TCP:127.0.0.1:PORT"
	"socat -u STDIN TCP:127.0.0.1:PORT")
# The baseline at 6 and 7 (5 is iperf3's), the same as 0 and 1.
IPERF=5 ORDER=(0 1 2 3 4) SHOWN=(0 1 2 3 4 5) LW=22 # LW: width of the names in the ratios
if [ -n "${BASELINE:-}" ]; then
	[ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not an executable"
	B=$BASELINE
	NAMES[6]="baseline" NAMES[7]="baseline --no-zero-copy"
	SRV[6]="$B serve -v 0" SRV[7]="$B serve -v --no-zero-copy 0"
	CLI[6]="$B connect 127.0.0.1 PORT" CLI[7]="$B connect --no-zero-copy 127.0.0.1 PORT"
	ORDER=(0 6 1 7 2 3 4) SHOWN=(0 1 6 7 2 3 4 5) LW=23
fi

run_file() {
	local f=$1 label=$2 i r k out
	local -a gb cpu
	head -c $((SLOW_MIB * 1048576)) "$f" >"$f.small"
	cat "$f" >/dev/null # into the page cache
	echo
	echo "== $label: $SIZE_MIB MiB file -> TCP loopback -> /dev/null (median of $REPEAT)"
	for ((r = 0; r < REPEAT; r++)); do
		# Interleaved, so a burst of load from elsewhere hits all alike;
		# odd repeats run the baseline before the new binary.
		order=("${ORDER[@]}")
		((r % 2)) && [ -n "${BASELINE:-}" ] && order=(6 0 7 1 2 3 4)
		for i in "${order[@]}"; do
			if [ "$i" = 4 ]; then
				out=$(xfer "$f.small" $((SLOW_MIB * 1048576)) "${SRV[$i]}" "${CLI[$i]}") || exit 1
			else
				out=$(xfer "$f" $((SIZE_MIB * 1048576)) "${SRV[$i]}" "${CLI[$i]}") || exit 1
			fi
			gb[i]+="${out% *} " cpu[i]+="${out#* } "
		done
		out=$(iperf_gibs $((SIZE_MIB * 1048576))) || exit 1
		gb[IPERF]+="${out% *} " cpu[IPERF]+="${out#* } "
	done
	local -a mg mc names
	for k in "${!NAMES[@]}"; do names[k]=${NAMES[k]}; done # keeps the gaps, unlike (...)
	names[IPERF]="iperf3 -l 1M (mem->mem)"
	printf '  %-26s %7s %11s   %s\n' tool GiB/s CPU-s/GiB "runs (GiB/s)"
	for k in "${SHOWN[@]}"; do
		mg[k]=$(median ${gb[k]}) mc[k]=$(median ${cpu[k]})
		printf '  %-26s %7s %11s   %s\n' "${names[$k]}" "${mg[k]}" "${mc[k]}" "${gb[k]% }"
	done
	echo "  ratios of medians, GiB/s (CPU per GiB: peer/sockctl, > 1 means sockctl uses less):"
	for k in 0 1 ${BASELINE:+6 7}; do
		printf '    %-*s vs nc -N %5sx (cpu %5sx; target >= 2)  vs socat -b 1M %5sx (cpu %5sx; target >= 1.0)\n' \
			"$LW" "${NAMES[$k]}" "$(ratio "${mg[k]}" "${mg[2]}")" "$(ratio "${mc[2]}" "${mc[k]}")" \
			"$(ratio "${mg[k]}" "${mg[3]}")" "$(ratio "${mc[3]}" "${mc[k]}")"
		printf '    %-*s vs socat default %5sx   vs iperf3 -l 1M %5sx\n' "$LW" "" \
			"$(ratio "${mg[k]}" "${mg[4]}")" "$(ratio "${mg[k]}" "${mg[IPERF]}")"
	done
	if [ -n "${BASELINE:-}" ]; then
		echo "  sockctl / baseline, same run, GiB/s (CPU per GiB: baseline/sockctl, > 1 means sockctl uses less):"
		for k in 0 1; do
			printf '    %-*s %5sx (cpu %5sx)\n' "$LW" "${NAMES[$k]}" "$(ratio "${mg[k]}" "${mg[k + 6]}")" \
				"$(ratio "${mc[k + 6]}" "${mc[k]}")"
		done
	fi
	rm -f "$f.small"
}

machine
echo "# $("$S" --version 2>&1 | head -1) at $S"
[ -z "${BASELINE:-}" ] || echo "# baseline: $("$BASELINE" --version 2>&1 | head -1) at $BASELINE"
for f in $FILES; do
	case $f in
	zero) src=/dev/zero label="zero-filled file" ;;
	random) src=/dev/urandom label="random file" ;;
	*) die "FILES: zero and/or random, not '$f'" ;;
	esac
	head -c $((SIZE_MIB * 1048576)) "$src" >"$TMP/$f"
	run_file "$TMP/$f" "$label"
	rm -f "$TMP/$f"
done
machine
