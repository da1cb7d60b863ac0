#!/usr/bin/env bash
# Port forwarding: `sockctl forward` against `socat TCP-LISTEN,fork`,
# haproxy 2.6 (one thread, mode tcp, option splice-auto) and rinetd, in
# the same run, interleaved.
#
# Bulk: a SIZE_MIB file (default 2 GiB) from `sockctl connect` through
# the forwarder to `sockctl serve -v --recv-only` writing to /dev/null,
# which must report every byte (--recv-only: the sink sends no FIN of its
# own, which rinetd, without half-close, would take for the end of all); GiB/s from the client's start to both ends' exit,
# and the forwarder's CPU seconds per GiB.
# Rate: CONNS (50) clients each doing connect / 64-byte request / echo /
# close (bench/echoload -n) through the forwarder to a minimal epoll echo
# server (bench/echo_ref), for SECS s: connections per second, the
# forwarder's CPU microseconds per connection, and how busy the core of
# the load generator and the echo server was (near 100%: that core sets
# the rate as much as the forwarder does, and CPU per connection is
# what tells the forwarders apart).
# The forwarder runs on core 0, the client and the far end on core 1
# (PIN=0: no pinning). Medians of REPEAT runs, then sockctl's ratios.
#
#   bench/forward.sh
#   SIZE_MIB=512 SECS=2 REPEAT=6 bench/forward.sh
# (REPEAT a multiple of the number of forwarders gives each the first
# place equally often.)
#   BASELINE=/tmp/old/sockctl bench/forward.sh   # that binary's forward too
#
# Targets: bulk >= 2x socat and >= 1.0x haproxy; rate >= 5x socat and
# >= 1.0x haproxy.
# shellcheck source=bench/lib.sh disable=SC2154,SC2034 # srv_pid, port: set by lib.sh
. "$(dirname "$0")/lib.sh"
need socat haproxy rinetd taskset python3 timeout ss
: "${SIZE_MIB:=2048}"
: "${CONNS:=50}"
: "${SECS:=3}"
build_tools

NAMES=(sockctl socat haproxy rinetd)
[ -n "${BASELINE:-}" ] && NAMES=(sockctl baseline socat haproxy rinetd)
RATE_NAMES=(sockctl socat haproxy)
[ -n "${BASELINE:-}" ] && RATE_NAMES=(sockctl baseline socat haproxy)

# fwd_start NAME TARGET-PORT: starts forwarder NAME (as bg "fwd") to
# 127.0.0.1:TARGET-PORT on core 0; sets $port to where it listens.
fwd_start() {
	local name=$1 tp=$2 p
	p=$(free_port)
	case $name in
	sockctl | baseline)
		local bin=$SOCKCTL
		[ "$name" = baseline ] && bin=$BASELINE
		# shellcheck disable=SC2086 # ON_SERVER: words
		bg fwd $ON_SERVER "$bin" forward 0 127.0.0.1 "$tp"
		srv_pid=$fwd_pid
		wait_ready fwd
		return
		;;
	socat)
		# backlog=1024: socat's default of 5 drops the SYNs of 50 clients
		# at once, and the rate would measure SYN retransmits.
		# shellcheck disable=SC2086
		bg fwd $ON_SERVER socat "TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr,backlog=1024" \
			"TCP:127.0.0.1:$tp"
		;;
	haproxy)
		cat >"$TMP/haproxy.cfg" <<-CFG
			global
				nbthread 1
				maxconn 4000
			defaults
				mode tcp
				option splice-auto
				timeout connect 5s
				timeout client 60s
				timeout server 60s
			frontend fe
				bind 127.0.0.1:$p
				default_backend be
			backend be
				server s1 127.0.0.1:$tp
		CFG
		# shellcheck disable=SC2086
		bg fwd $ON_SERVER haproxy -db -f "$TMP/haproxy.cfg"
		;;
	rinetd)
		echo "127.0.0.1 $p 127.0.0.1 $tp" >"$TMP/rinetd.conf"
		# shellcheck disable=SC2086
		bg fwd $ON_SERVER rinetd -f -c "$TMP/rinetd.conf"
		;;
	esac
	srv_pid=$fwd_pid
	port=$p
	local i
	for ((i = 0; i < 1000; i++)); do
		ss -Htln "sport = :$p" | grep -q . && return 0
		kill -0 "$fwd_pid" 2>/dev/null || break
		sleep 0.01
	done
	die "$name does not listen on $p: $(cat "$TMP/fwd.err")"
}

fwd_stop() {
	kill "$fwd_pid" 2>/dev/null
	wait "$fwd_pid" 2>/dev/null
}

# bulk NAME FILE: one transfer; prints "GiB/s forwarder-CPU-s/GiB".
bulk() {
	local name=$1 f=$2 bytes sp t0 t1 c0 c1 rc
	bytes=$(stat -c %s "$f")
	# shellcheck disable=SC2086
	BG_STDOUT=/dev/null bg sink $ON_LOAD "$SOCKCTL" serve -v --recv-only 0
	sp=$sink_pid
	wait_ready sink
	local sinkp=$port
	fwd_start "$name" "$sinkp"
	c0=$(tree_cpu_ticks "$fwd_pid")
	t0=$(now)
	# shellcheck disable=SC2086
	timeout 300 $ON_LOAD "$SOCKCTL" connect 127.0.0.1 "$port" <"$f" >/dev/null 2>"$TMP/cli.err" ||
		die "$name: client failed: $(cat "$TMP/cli.err")"
	wait_pid "$sp" 300 || die "$name: the sink did not end"
	t1=$(now)
	c1=$(tree_cpu_ticks "$fwd_pid")
	fwd_stop
	rc=$(sed -n 's/.*received \([0-9]*\) bytes.*/\1/p' "$TMP/sink.err" | tail -1)
	[ "$rc" = "$bytes" ] || die "$name: the sink received ${rc:-?} of $bytes bytes"
	awk -v t="$t1" -v t0="$t0" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v b="$bytes" \
		'BEGIN { g = b / 2^30; printf "%.3f %.3f\n", g / (t - t0), c / hz / g }'
}

# core_busy_ticks CORE: that core's busy clock ticks so far (/proc/stat).
core_busy_ticks() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# rate NAME: prints "connections/s forwarder-CPU-us/connection
# load-core-busy-%". With the load generator and the echo server on one
# core, a busy share near 100 means that core, not the forwarder, sets
# the rate: the forwarders' CPU per connection then tells them apart.
rate() {
	local name=$1
	# shellcheck disable=SC2086
	bg echo $ON_LOAD "$TMP/echo_ref" 0
	local ep i
	for ((i = 0; i < 1000; i++)); do
		ep=$(ss -Htlnp | awk -v p="pid=$echo_pid," '$0 ~ p { n = split($4, a, ":"); print a[n]; exit }')
		[ -n "$ep" ] && break
		sleep 0.01
	done
	[ -n "$ep" ] || die "echo_ref did not listen"
	fwd_start "$name" "$ep"
	local b0 b1 t0 t1 line
	b0=$(core_busy_ticks 1)
	t0=$(now)
	line=$(echo_load "$name" -n)
	t1=$(now)
	b1=$(core_busy_ticks 1)
	echo "$line $(awk -v b=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v t="$t1" -v t0="$t0" \
		'BEGIN { printf "%.0f", 100 * b / hz / (t - t0) }')"
	kill "$echo_pid" 2>/dev/null
	wait "$echo_pid" 2>/dev/null
}

machine
f=$TMP/bulk
head -c $((SIZE_MIB * 1048576)) /dev/urandom >"$f"
declare -A BG BC RG RC RB
# rotated NAME... by R: the list started at its R-th entry. Each round
# runs the forwarders in another order: the first of a round measures
# several percent faster (seen with the same binary in every place), so
# a fixed order would favour one of them.
rotated() {
	local r=$1
	shift
	local a=("$@") i
	for ((i = 0; i < ${#a[@]}; i++)); do
		echo "${a[(i + r) % ${#a[@]}]}"
	done
}
for ((r = 0; r < REPEAT; r++)); do
	for n in $(rotated "$r" "${NAMES[@]}"); do
		read -r g c < <(bulk "$n" "$f") || exit 1
		[ -n "$g" ] || exit 1
		BG[$n]+="$g " BC[$n]+="$c "
	done
	for n in $(rotated "$r" "${RATE_NAMES[@]}"); do
		read -r g c b < <(rate "$n") || exit 1
		[ -n "$g" ] || exit 1
		RG[$n]+="$g " RC[$n]+="$c " RB[$n]+="$b "
	done
done

echo "== bulk: $SIZE_MIB MiB client -> forwarder -> sink (median of $REPEAT)"
printf '%-10s %10s %16s\n' forwarder GiB/s "CPU s/GiB"
declare -A MB MR
for n in "${NAMES[@]}"; do
	# shellcheck disable=SC2086 # lists of numbers
	MB[$n]=$(median ${BG[$n]})
	# shellcheck disable=SC2086
	printf '%-10s %10s %16s\n' "$n" "${MB[$n]}" "$(median ${BC[$n]})"
done
echo "== rate: $CONNS clients, connect / 64-byte request / reply / close, $SECS s (median of $REPEAT)"
printf '%-10s %10s %16s %16s\n' forwarder conns/s "CPU us/conn" "load core busy"
declare -A MC
for n in "${RATE_NAMES[@]}"; do
	# shellcheck disable=SC2086
	MR[$n]=$(median ${RG[$n]})
	# shellcheck disable=SC2086
	MC[$n]=$(median ${RC[$n]})
	# shellcheck disable=SC2086
	printf '%-10s %10s %16s %15s%%\n' "$n" "${MR[$n]}" "${MC[$n]}" "$(median ${RB[$n]})"
done
echo "== ratios (targets: bulk >= 2x socat, >= 1.0x haproxy; rate >= 5x socat, >= 1.0x haproxy)"
for n in "${NAMES[@]}"; do
	[ "$n" = sockctl ] && continue
	printf 'bulk sockctl/%-8s %s\n' "$n" "$(ratio "${MB[sockctl]}" "${MB[$n]}")"
done
for n in "${RATE_NAMES[@]}"; do
	[ "$n" = sockctl ] && continue
	printf 'rate sockctl/%-8s %s\n' "$n" "$(ratio "${MR[sockctl]}" "${MR[$n]}")"
done
# CPU per connection: the other's over sockctl's (above 1: sockctl spends less).
for n in "${RATE_NAMES[@]}"; do
	[ "$n" = sockctl ] && continue
	printf 'CPU/conn %-8s/sockctl %s\n' "$n" "$(ratio "${MC[$n]}" "${MC[sockctl]}")"
done
