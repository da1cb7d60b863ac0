#!/bin/bash
# Benchmark: 1,000 names from a file against a local dnsmasq.
#   sockctl resolve --server -f FILE      vs  a shell loop of `dig +short`,
#                                             `xargs -P 16 dig +short`
#   sockctl resolve -f FILE (system)      vs  a shell loop of `getent ahosts`
# When user namespaces work, everything runs in a private network
# namespace where dnsmasq is on 127.0.0.1:53 and /etc/resolv.conf points
# at it, so the system resolver (getent, sockctl without --server) asks the
# same server. Prints each time and the ratios, measured in the same run.
# DNS over TLS: the same names through socat OPENSSL-LISTEN in front of
# dnsmasq, `sockctl resolve --tls` vs `xargs -P 16 -n 63 dig +tls` (and
# vs BASELINE=/path/to/older/sockctl when given).
# Usage: bench/resolve.sh [NAMES] (default 1000); BENCH_NO_NS=1 stays out of
# namespaces (then the getent comparison is skipped). Needs dnsmasq, dig,
# socat, openssl.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
SOCKCTL=${SOCKCTL:-$here/sockctl}
N=${1:-1000}
if [[ -z ${IN_BENCH_NS:-} && -z ${BENCH_NO_NS:-} ]] && unshare -rmn true 2>/dev/null; then
	IN_BENCH_NS=1 SOCKCTL=$SOCKCTL exec unshare -rmn "$0" "$@"
fi
source "$here/tests/dns-zone.bash"
dir=$(mktemp -d)
trap 'dns_stop "$dir"; rm -rf "$dir"' EXIT

port=""
if [[ -n ${IN_BENCH_NS:-} ]]; then
	ip link set lo up
	port=53
fi
for ((i = 1; i <= N; i++)); do
	echo "198.51.$((i / 250)).$((i % 250 + 1)) host$i.bench.test"
done >"$dir/hosts"
awk '{ print $2 }' "$dir/hosts" >"$dir/names"
dns_start "$dir" "$port" --addn-hosts="$dir/hosts" || exit 1
host=${DNS%:*}
system=no
if [[ -n ${IN_BENCH_NS:-} ]]; then
	printf 'nameserver 127.0.0.1\n' >"$dir/resolv.conf"
	mount --bind "$dir/resolv.conf" /etc/resolv.conf && system=yes
fi

now() { date +%s.%N; }
# run LABEL CMD...: times CMD (stdout to $dir/LABEL.out), prints the time.
declare -A secs
run() {
	local label=$1 t0 t1
	shift
	t0=$(now)
	"$@" >"$dir/$label.out" 2>/dev/null
	t1=$(now)
	secs[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	printf '%-28s %8.3f s  %6d lines\n' "$label" "${secs[$label]}" "$(wc -l <"$dir/$label.out")"
}
ratio() { # ratio PEER OURS
	printf '  %-26s %8.1fx faster than %s\n' "$2" \
		"$(awk -v a="${secs[$1]}" -v b="${secs[$2]}" 'BEGIN { print a / b }')" "$1"
}
dig_loop() {
	local n
	while read -r n; do dig +short +tries=1 +time=2 -p "$DNS_PORT" @"$host" "$n" A; done <"$dir/names"
}
getent_loop() {
	local n
	while read -r n; do getent ahosts "$n"; done <"$dir/names"
}

echo "$N names against dnsmasq on $DNS (namespace: ${IN_BENCH_NS:-no}); $(nproc) cores"
run sockctl "$SOCKCTL" resolve --server "$DNS" --short -f "$dir/names"
run dig-loop dig_loop
run xargs-P16-dig xargs -P 16 -n 1 dig +short +tries=1 +time=2 -p "$DNS_PORT" @"$host" <"$dir/names"
run xargs-P16-n63-dig xargs -P 16 -n 63 dig +short +tries=1 +time=2 -p "$DNS_PORT" @"$host" <"$dir/names"
if ! cmp -s <(sort "$dir/sockctl.out") <(sort "$dir/dig-loop.out"); then
	echo "MISMATCH: sockctl and dig answered differently" >&2
	exit 1
fi
if [[ $system == yes ]]; then
	run sockctl-system "$SOCKCTL" resolve --short -4 -f "$dir/names"
	run getent-loop getent_loop
fi
# DNS over TLS: socat ends TLS and hands each connection to dnsmasq's TCP.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=dot \
	-keyout "$dir/dot.key" -out "$dir/dot.pem" 2>/dev/null
dotport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
socat OPENSSL-LISTEN:"$dotport",bind=127.0.0.1,reuseaddr,fork,cert="$dir/dot.pem",key="$dir/dot.key",verify=0 \
	TCP:"$DNS" 2>/dev/null 3>&- &
echo $! >>"$dir/pids"
for _ in $(seq 500); do
	ss -Htln "sport = :$dotport" | grep -q . && break
	sleep 0.01
done
run sockctl-dot "$SOCKCTL" resolve --tls -k --server "127.0.0.1:$dotport" --short -f "$dir/names"
[[ -n ${BASELINE:-} ]] &&
	run baseline-dot "$BASELINE" resolve --tls -k --server "127.0.0.1:$dotport" --short -f "$dir/names"
run xargs-P16-n63-dig-tls xargs -P 16 -n 63 dig +tls +short +tries=1 +time=2 -p "$dotport" @127.0.0.1 \
	<"$dir/names"
if ! cmp -s <(sort "$dir/sockctl-dot.out") <(sort "$dir/dig-loop.out"); then
	echo "MISMATCH: sockctl over TLS and dig answered differently" >&2
	exit 1
fi
echo "ratios (same run):"
ratio dig-loop sockctl
ratio xargs-P16-dig sockctl
ratio xargs-P16-n63-dig sockctl
if [[ $system == yes ]]; then
	ratio getent-loop sockctl
	ratio getent-loop sockctl-system
fi
ratio xargs-P16-n63-dig-tls sockctl-dot
[[ -n ${BASELINE:-} ]] && ratio baseline-dot sockctl-dot
