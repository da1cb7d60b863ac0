#!/usr/bin/env bash
# forward's faults, held to their figures with 100 connections open at
# once: --delay-up 200 adds 200 ms +/- 5 ms to a round trip, --delay 100
# (both ways) too, and --rate-down 1MiB holds each connection's transfer
# at 0.9-1.1 MiB/s. Run by hand: bench/forward_faults.sh
# (CONNS=100 ROUNDS=5 MIB=3 to change the load).
. "$(dirname "$0")/lib.sh"

: "${CONNS:=100}" "${ROUNDS:=5}" "${MIB:=3}"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

machine

bg echo "$SOCKCTL" serve -k --echo 0
wait_ready echo
ECHO=$port
bg bulk "$SOCKCTL" serve -k -m 1000 --sh-exec "head -c $((MIB * 1048576)) /dev/zero" 0
wait_ready bulk
BULK=$port

# rtts PORT: CONNS connections open at once, each ROUNDS round trips of
# a short line; prints the median and the 5th and 95th percentiles (ms).
rtts() {
	"$PY" - "$1" "$CONNS" "$ROUNDS" <<'EOF'
import selectors, socket, sys, time
port, conns, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
sel = selectors.DefaultSelector()
state = {}
for s in socks:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    state[s] = [0, time.monotonic(), b""]
    s.send(b"ping\n")
out = []
left = conns
deadline = time.monotonic() + 120
while left and time.monotonic() < deadline:
    for key, _ in sel.select(1):
        s = key.fileobj
        st = state[s]
        st[2] += s.recv(64)
        if st[2] != b"ping\n":
            continue
        out.append((time.monotonic() - st[1]) * 1000)
        st[0] += 1
        st[2] = b""
        if st[0] == rounds:
            sel.unregister(s)
            left -= 1
        else:
            st[1] = time.monotonic()
            s.send(b"ping\n")
out.sort()
n = len(out)
print("%.1f %.1f %.1f %d" % (out[n // 2], out[n // 20], out[n * 19 // 20], n))
EOF
}

# rates PORT: CONNS connections at once, each reading the bulk target's
# MIB MiB; prints the slowest, median and fastest rate (MiB/s).
rates() {
	"$PY" - "$1" "$CONNS" <<'EOF'
import selectors, socket, sys, time
port, conns = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
t0 = time.monotonic()
got = {}
for _ in range(conns):
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    got[s] = [0, time.monotonic(), None]
left = conns
while left and time.monotonic() < t0 + 300:
    for key, _ in sel.select(1):
        s = key.fileobj
        b = s.recv(262144)
        if b:
            got[s][0] += len(b)
            continue
        got[s][2] = time.monotonic()
        sel.unregister(s)
        left -= 1
r = sorted(v[0] / 1048576 / (v[2] - v[1]) for v in got.values() if v[2])
print("%.3f %.3f %.3f %d" % (r[0], r[len(r) // 2], r[-1], len(r)))
EOF
}

run_fwd() {
	bg fwd "$SOCKCTL" forward "$@"
	wait_ready fwd
}

stop_fwd() {
	kill "$fwd_pid"
	wait_pid "$fwd_pid" 10
}

run_fwd 0 127.0.0.1 "$ECHO"
read -r base b5 b95 n < <(rtts "$port")
stop_fwd
echo "round trip without faults, $CONNS connections: median $base ms (p5 $b5, p95 $b95; $n trips)"

for f in "--delay-up 200" "--delay 100"; do
	# shellcheck disable=SC2086 # the option and its value
	run_fwd $f 0 127.0.0.1 "$ECHO"
	read -r med p5 p95 n < <(rtts "$port")
	stop_fwd
	added=$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.1f", a - b }')
	ok=$(awk -v a="$added" 'BEGIN { print (a >= 195 && a <= 205) ? "within" : "OUTSIDE" }')
	echo "$f, $CONNS connections: median $med ms (p5 $p5, p95 $p95), added $added ms: $ok 200 +/- 5"
done

run_fwd --rate-down 1MiB 0 127.0.0.1 "$BULK"
read -r slow med fast n < <(rates "$port")
stop_fwd
ok=$(awk -v a="$slow" -v b="$fast" 'BEGIN { print (a >= 0.9 && b <= 1.1) ? "within" : "OUTSIDE" }')
echo "--rate-down 1MiB, $CONNS connections of $MIB MiB each: slowest $slow, median $med, fastest $fast MiB/s: $ok 0.9-1.1"
