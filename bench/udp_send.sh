#!/bin/sh
# udp-send as a packet generator: COUNT datagrams of SIZE bytes to a local
# discard sink, against socat's copy loop (one datagram per 64-byte read)
# and iperf3 -u at the same size, in the same run. Prints datagrams per
# second and the ratios. Run by hand from the build directory:
#   bench/udp_send.sh            (COUNT=1000000 SIZE=64 RUNS=3)
set -eu
SOCKCTL=${SOCKCTL:-./sockctl}
COUNT=${COUNT:-1000000}
SIZE=${SIZE:-64}
RUNS=${RUNS:-3}

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "installing $2 ..." >&2
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$2" >/dev/null
}
need socat socat
need iperf3 iperf3
need python3 python3
[ -x "$SOCKCTL" ] || { echo "no $SOCKCTL: build first (make)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
rate() { python3 -c "print(round($COUNT / ($2 - $1)))"; }

# The sink: socat discarding everything, the same one for sockctl and socat.
sink=$(free_port)
socat -u UDP-RECV:"$sink",bind=127.0.0.1,rcvbuf=4194304 OPEN:/dev/null &
pids="$pids $!"
while ! ss -Huln "sport = :$sink" | grep -q .; do sleep 0.05; done

best_sockctl=0 best_socat=0 best_iperf=0
max() { python3 -c "print(max($1, $2))"; }
bytes=$((COUNT * SIZE))
for run in $(seq "$RUNS"); do
	t0=$(now)
	"$SOCKCTL" udp-send -c "$COUNT" --size "$SIZE" 127.0.0.1 "$sink"
	t1=$(now)
	r=$(rate "$t0" "$t1")
	best_sockctl=$(max "$best_sockctl" "$r")

	t0=$(now)
	head -c "$bytes" /dev/zero | socat -b "$SIZE" -u STDIN UDP-SENDTO:127.0.0.1:"$sink"
	t1=$(now)
	r=$(rate "$t0" "$t1")
	best_socat=$(max "$best_socat" "$r")

	ip=$(free_port)
	iperf3 -s -1 -p "$ip" -B 127.0.0.1 >/dev/null 2>&1 &
	ipid=$!
	while ! ss -Htln "sport = :$ip" | grep -q .; do sleep 0.05; done
	# iperf3's own figure for its sending phase (its set-up is not counted).
	r=$(iperf3 -u -c 127.0.0.1 -p "$ip" -l "$SIZE" -b 0 -n "$bytes" --json |
		python3 -c 'import json,sys; s=json.load(sys.stdin)["end"]["sum"]; print(round(s["packets"] / s["seconds"]))')
	wait "$ipid" 2>/dev/null || :
	best_iperf=$(max "$best_iperf" "$r")
	echo "run $run: sockctl $best_sockctl socat $best_socat iperf3 $best_iperf (best so far, datagrams/s)" >&2
done

echo "udp-send: $COUNT datagrams of $SIZE bytes to a discard sink, best of $RUNS runs"
printf '%-34s %12s\n' "sender" "datagrams/s"
printf '%-34s %12s\n' "sockctl udp-send (sendmmsg)" "$best_sockctl"
printf '%-34s %12s\n' "socat -b $SIZE STDIN UDP-SENDTO" "$best_socat"
printf '%-34s %12s\n' "iperf3 -u -l $SIZE -b 0" "$best_iperf"
python3 -c "print('ratio sockctl/socat  %.2f' % ($best_sockctl / $best_socat))"
python3 -c "print('ratio sockctl/iperf3 %.2f' % ($best_sockctl / $best_iperf))"
