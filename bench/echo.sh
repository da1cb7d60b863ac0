#!/usr/bin/env bash
# Echo round trips: 50 connections exchanging 64-byte messages (each waits
# for its echo before sending the next) against `sockctl serve --echo -k`
# on each backend, `ncat -l -k -e /bin/cat` and the reference, a minimal
# single-threaded epoll echo server (bench/echo_ref.c), in the same run,
# interleaved. The server runs on core 0 and the load generator
# (bench/echoload.c) on core 1 (PIN=0: no pinning).
#
#   bench/echo.sh                  # 50 connections, 3 s per run, 3 runs
#   CONNS=100 SECS=5 REPEAT=5 bench/echo.sh
#   BASELINE=/tmp/old/sockctl bench/echo.sh
#
# BASELINE=path/to/older/sockctl measures that binary too, each backend's
# run beside the new binary's (which of the two goes first alternates
# between repeats), and prints its rows and the ratios new/baseline.
# Targets: every backend >= 4x ncat and >= 0.8x the reference.
# shellcheck source=bench/lib.sh disable=SC2154,SC2034 # srv_pid, port: set by lib.sh
. "$(dirname "$0")/lib.sh"
need ncat taskset
: "${CONNS:=50}"
: "${SECS:=3}"
build_tools

MUXES=(epoll poll select)
NAMES=(reference epoll poll select ncat)
declare -A CMD=(
	[reference]="$TMP/echo_ref 0"
	[epoll]="$SOCKCTL --mux=epoll serve --echo -k 0"
	[poll]="$SOCKCTL --mux=poll serve --echo -k 0"
	[select]="$SOCKCTL --mux=select serve --echo -k 0"
	[ncat]="ncat -l -k -e /bin/cat 127.0.0.1 PORT"
)
if [ -n "${BASELINE:-}" ]; then
	[ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not an executable"
	NAMES=(reference)
	for m in "${MUXES[@]}"; do
		NAMES+=("$m" "base_$m")
		CMD[base_$m]="$BASELINE --mux=$m serve --echo -k 0"
	done
	NAMES+=(ncat)
fi

# one NAME: prints round trips per second and the server's CPU time per
# round trip (microseconds) for one run.
one() {
	local name=$1 cmd=${CMD[$1]} p out c0 c1
	if [ "$name" = ncat ]; then
		p=$(free_port)
		bg srv $ON_SERVER ${cmd//PORT/$p}
		wait_listen "$p"
		port=$p
	else
		bg srv $ON_SERVER $cmd
		wait_ready srv
	fi
	echo_load "$name"
}

machine
echo "# $CONNS connections x 64-byte round trips, $SECS s per run, median of $REPEAT;" \
	"server ${ON_SERVER:-unpinned}, load ${ON_LOAD:-unpinned}"
[ -z "${BASELINE:-}" ] || echo "# sockctl: $("$SOCKCTL" --version 2>&1 | head -n 1) at $SOCKCTL;" \
	"baseline: $("$BASELINE" --version 2>&1 | head -n 1) at $BASELINE"
declare -A runs=() med=() cpus=() mcpu=()
for ((r = 0; r < REPEAT; r++)); do
	order=("${NAMES[@]}")
	if [ -n "${BASELINE:-}" ] && ((r % 2)); then
		# Odd repeats: the baseline before the new binary on each backend.
		order=(reference)
		for m in "${MUXES[@]}"; do order+=("base_$m" "$m"); done
		order+=(ncat)
	fi
	for n in "${order[@]}"; do
		out=$(one "$n") || exit 1
		runs[$n]+="${out% *} " cpus[$n]+="${out#* } "
	done
done
printf '  %-38s %10s %12s   %s\n' server "trips/s" "CPU us/trip" "runs (trips/s)"
for n in "${NAMES[@]}"; do
	med[$n]=$(median ${runs[$n]}) mcpu[$n]=$(median ${cpus[$n]})
	label=${CMD[$n]#"$TMP/"}
	label=${label#"$SOCKCTL "}
	label=${label#"${BASELINE:-} "}
	[ "$n" = ncat ] && label="ncat -l -k -e /bin/cat"
	[ "$n" = reference ] && label="echo_ref (epoll reference)"
	[[ $label == --mux* ]] && label="sockctl $label"
	[[ $n == base_* ]] && label="baseline ${label#sockctl }"
	printf '  %-38s %10.0f %12s   %s\n' "${label% 0}" "${med[$n]}" "${mcpu[$n]}" "${runs[$n]% }"
done
echo "  ratios of medians, trips/s (and server CPU per trip, peer/sockctl: > 1 = sockctl uses less)"
echo "  targets: >= 4x ncat, >= 0.8x reference"
for n in "${NAMES[@]}"; do
	[ "$n" = reference ] || [ "$n" = ncat ] && continue
	who=sockctl m=$n
	[[ $n == base_* ]] && who=baseline m=${n#base_}
	# "baseline" is a letter longer than "sockctl": one less of padding.
	printf '    %s --mux=%-*s %6sx ncat (cpu %6sx)   %5sx reference (cpu %5sx)\n' "$who" \
		$((14 - ${#who})) "$m" \
		"$(ratio "${med[$n]}" "${med[ncat]}")" "$(ratio "${mcpu[ncat]}" "${mcpu[$n]}")" \
		"$(ratio "${med[$n]}" "${med[reference]}")" "$(ratio "${mcpu[reference]}" "${mcpu[$n]}")"
done
if [ -n "${BASELINE:-}" ]; then
	echo "  sockctl / baseline, same run, trips/s (cpu: baseline/sockctl, > 1 = sockctl uses less)"
	for m in "${MUXES[@]}"; do
		printf '    --mux=%-7s %6sx (cpu %6sx)\n' "$m" "$(ratio "${med[$m]}" "${med[base_$m]}")" \
			"$(ratio "${mcpu[base_$m]}" "${mcpu[$m]}")"
	done
fi
machine
