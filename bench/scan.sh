#!/usr/bin/env bash
# Port scan: `sockctl connect -z 127.0.0.1 1-65535` against `nc -z` over
# the same ports, in the same run, interleaved; plus a second case where
# concurrency matters: ports whose listeners drop SYNs (a full accept
# queue, like a filtered port) with a 1 s timeout each.
#
#   bench/scan.sh                  # 3 runs
#   REPEAT=5 FILTERED=8 bench/scan.sh
#
# Target: connect -z at least 10x nc -z over 1-65535 on loopback. As root
# the half-open scan (connect -z --syn, raw socket) is measured too.
# Uses bench/lib.sh (helpers shared by the benchmarks).
# shellcheck source=bench/lib.sh disable=SC2154,SC2034,SC2086 # set by lib.sh; word splitting of commands is meant
. "$(dirname "$0")/lib.sh"
need nc python3
: "${FILTERED:=8}"

# secs CMD...: wall seconds of one run (output discarded).
secs() {
	local t0 t1
	t0=$(now)
	"$@" >/dev/null 2>&1
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

machine
echo "# all 65535 loopback ports (almost all refused), median of $REPEAT runs"
declare -a s_all=() n_all=() y_all=() s_f=() n_f=()
syn=0
[[ $("$SOCKCTL" connect -z --syn 127.0.0.1 1 2>/dev/null) == *closed ]] && syn=1
for ((r = 0; r < REPEAT; r++)); do
	s_all+=("$(secs "$SOCKCTL" connect -z -w 3 127.0.0.1 1-65535)")
	n_all+=("$(secs nc -z -w 3 127.0.0.1 1-65535)")
	((syn)) && y_all+=("$(secs "$SOCKCTL" connect -z --syn -w 3 127.0.0.1 1-65535)")
done
ms=$(median "${s_all[@]}")
mn=$(median "${n_all[@]}")
printf '  %-44s %8ss   %s\n' "sockctl connect -z -w 3 127.0.0.1 1-65535" "$ms" "${s_all[*]}"
printf '  %-44s %8ss   %s\n' "nc -z -w 3 127.0.0.1 1-65535" "$mn" "${n_all[*]}"
echo "  speed-up: $(ratio "$mn" "$ms")x (target >= 10x)"
if ((syn)); then
	my=$(median "${y_all[@]}")
	printf '  %-44s %8ss   %s\n' "sockctl connect -z --syn -w 3 (raw socket)" "$my" "${y_all[*]}"
	echo "  speed-up --syn: $(ratio "$mn" "$my")x (target >= 10x)"
else
	echo "  (connect -z --syn not measured: raw sockets need root or CAP_NET_RAW)"
fi
# Only now, so that the full scans above do not meet them:
# Listeners whose accept queue is full: SYNs to them are dropped, so a
# connect waits for its timeout, as with a filtered port.
bg full python3 -c '
import socket, sys, time
n = int(sys.argv[1]); keep = []
ports = []
for _ in range(n):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
    for _ in range(3):
        c = socket.socket(); c.setblocking(False)
        try: c.connect(s.getsockname())
        except BlockingIOError: pass
        keep.append(c)
    keep.append(s); ports.append(str(s.getsockname()[1]))
print(",".join(ports), flush=True)
time.sleep(3600)
' "$FILTERED"
for ((i = 0; i < 500; i++)); do
	[ -s "$TMP/full.out" ] && break
	sleep 0.01
done
FULL=$(cat "$TMP/full.out")
sleep 0.5 # let the fillers' handshakes settle into the queues

echo "# $FILTERED ports that drop SYNs (timeout 1 s each), median of $REPEAT runs"
for ((r = 0; r < REPEAT; r++)); do
	s_f+=("$(secs "$SOCKCTL" connect -z -w 1 127.0.0.1 "$FULL")")
	n_f+=("$(secs nc -z -w 1 127.0.0.1 ${FULL//,/ })")
done
ms=$(median "${s_f[@]}")
mn=$(median "${n_f[@]}")
printf '  %-44s %8ss   %s\n' "sockctl connect -z -w 1 (dropping ports)" "$ms" "${s_f[*]}"
printf '  %-44s %8ss   %s\n' "nc -z -w 1 (the same ports)" "$mn" "${n_f[*]}"
echo "  speed-up: $(ratio "$mn" "$ms")x"
machine
