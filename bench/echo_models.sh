#!/usr/bin/env bash
# Echo round trips (64-byte messages, each connection waits for its echo)
# against `sockctl serve --echo -k` with --workers 1 and 2, --model=fork
# and --model=thread, and the minimal single-threaded epoll reference
# (bench/echo_ref.c), in the same run, interleaved.
#
# How the 2 cores are split: the load generator (bench/echoload.c) shares
# them with the server. With PIN=1 (the default) single-process servers
# run on core 0 and the load on core 1; --workers 2 runs on both cores
# (it needs two), still with the load on core 1, so its figure is what two
# workers get while sharing a core with the load. PIN=0: no pinning at all.
#
#   bench/echo_models.sh                 # 50 connections, 3 s, 3 runs
#   CONNS=100 SECS=5 REPEAT=5 PIN=0 bench/echo_models.sh
#   BASELINE=/tmp/old/sockctl bench/echo_models.sh
#
# BASELINE=path/to/older/sockctl measures that binary too, each model's
# run beside the new binary's (which of the two goes first alternates
# between repeats), and prints its rows and the ratios new/baseline.
#
# Uses bench/lib.sh, bench/echo_ref.c and bench/echoload.c.
# shellcheck source=bench/lib.sh disable=SC2154,SC2034,SC2086 # set by lib.sh; word splitting of commands is meant
. "$(dirname "$0")/lib.sh"
need taskset
: "${CONNS:=50}"
: "${SECS:=3}"
build_tools

NAMES=(reference workers1 workers2 fork thread)
declare -A CMD=(
	[reference]="$TMP/echo_ref 0"
	[workers1]="$SOCKCTL serve --echo -k 0"
	[workers2]="$SOCKCTL serve --echo -k --workers 2 0"
	[fork]="$SOCKCTL serve --echo -k --model=fork 0"
	[thread]="$SOCKCTL serve --echo -k --model=thread 0"
)
declare -A LABEL=(
	[reference]="echo_ref (epoll reference)"
	[workers1]="serve --echo -k (--workers 1)"
	[workers2]="serve --echo -k --workers 2"
	[fork]="serve --echo -k --model=fork"
	[thread]="serve --echo -k --model=thread"
)
MODELS=(workers1 workers2 fork thread)
if [ -n "${BASELINE:-}" ]; then
	[ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not an executable"
	NAMES=(reference)
	for m in "${MODELS[@]}"; do
		NAMES+=("$m" "base_$m")
		CMD[base_$m]=${CMD[$m]/#"$SOCKCTL "/"$BASELINE "}
		LABEL[base_$m]="baseline ${LABEL[$m]#serve }"
	done
fi

one() {
	local name=$1 on=$ON_SERVER out
	[ "${name#base_}" = workers2 ] && [ -n "$on" ] && on="taskset -c 0,1"
	bg srv $on ${CMD[$name]}
	wait_ready srv
	out=$(echo_load "$name")
	echo "${out%% *}"
}

machine
echo "# $CONNS connections x 64-byte round trips, $SECS s per run, median of $REPEAT;" \
	"server ${ON_SERVER:-unpinned} (--workers 2: cores 0,1), load ${ON_LOAD:-unpinned}"
[ -z "${BASELINE:-}" ] || echo "# sockctl at $SOCKCTL; baseline at $BASELINE"
declare -A runs=() med=()
for ((r = 0; r < REPEAT; r++)); do
	order=("${NAMES[@]}")
	if [ -n "${BASELINE:-}" ] && ((r % 2)); then
		# Odd repeats: the baseline before the new binary on each model.
		order=(reference)
		for m in "${MODELS[@]}"; do order+=("base_$m" "$m"); done
	fi
	for n in "${order[@]}"; do
		runs[$n]+="$(one "$n") " || exit 1
	done
done
printf '  %-36s %10s   %s\n' server "trips/s" runs
for n in "${NAMES[@]}"; do
	med[$n]=$(median ${runs[$n]})
	printf '  %-36s %10.0f   %s\n' "${LABEL[$n]}" "${med[$n]}" "${runs[$n]% }"
done
echo "  ratios of medians:"
echo "    --workers 2 / --workers 1:  $(ratio "${med[workers2]}" "${med[workers1]}")x"
for n in "${MODELS[@]}"; do
	printf '    %-28s %sx reference   %sx loop\n' "${LABEL[$n]#serve --echo -k }" \
		"$(ratio "${med[$n]}" "${med[reference]}")" "$(ratio "${med[$n]}" "${med[workers1]}")"
done
if [ -n "${BASELINE:-}" ]; then
	echo "  sockctl / baseline, same run, trips/s:"
	for n in "${MODELS[@]}"; do
		printf '    %-28s %sx\n' "${LABEL[$n]#serve --echo -k }" \
			"$(ratio "${med[$n]}" "${med[base_$n]}")"
	done
fi
machine
