#!/usr/bin/env bash
# Checks bench/chatload.c itself, with short runs: against sockctl chat
# serve (each backend) and ncat --chat it sees every line arrive in order
# (also past a stalled client on sockctl, which drops it), and it reports
# the servers that do wrong: a relay that drops a line, swaps two, damages
# one or stops relaying (python stand-ins below), and `sockctl serve -k
# --discard`, which relays nothing. Prints one line a case; exits 1 if
# any verdict is not the expected one.
#
#   bench/chatload_check.sh             # 20 receivers x 2000 lines
#   CLIENTS=200 COUNT=20000 bench/chatload_check.sh  (relays: 20 x 2000)
# shellcheck source=bench/lib.sh disable=SC2154,SC2034,SC2086 # set by lib.sh; word lists
. "$(dirname "$0")/lib.sh"
need ncat python3
: "${CLIENTS:=20}"
: "${COUNT:=2000}"
: "${MUXES:=select poll epoll}"
build_tools chatload

# A chat relay that tags each line "<uN> " and sends it to everyone else;
# MODE breaks it for the second client to join: drop skips its 50th
# payload line, swap swaps its 50th and 51st, damage changes a byte of its
# 50th, stop relays nothing past its 50th to anyone.
cat >"$TMP/relay.py" <<'PY'
import asyncio, sys
mode, port_file = sys.argv[1], sys.argv[2]
clients = []
count = {}

async def client(reader, writer):
    me = len(clients)
    clients.append(writer)
    count[writer] = 0
    writer.write(b"welcome\n")
    held = None
    while line := await reader.readline():
        payload = b"chatload-" in line and not line.endswith(b" sync\n")
        for i, w in enumerate(clients):
            if w is writer or w.is_closing():
                continue
            out = b"<u%d> " % me + line
            if payload:
                count[w] += 1
                n = count[w]
                if mode == "stop" and n > 50:
                    continue
                if i == 1 and n == 50:
                    if mode == "drop":
                        continue
                    if mode == "damage":
                        out = out[:-3] + b"#" + out[-2:]
                    if mode == "swap":
                        held = out
                        continue
                if i == 1 and n == 51 and held:
                    out, held = out + held, None
            w.write(out)
        await asyncio.gather(*(w.drain() for w in clients if not w.is_closing()),
                             return_exceptions=True)
    clients.remove(writer)
    writer.close()

async def main():
    srv = await asyncio.start_server(client, "127.0.0.1", 0)
    with open(port_file, "w") as f:
        f.write("%d\n" % srv.sockets[0].getsockname()[1])
    await srv.serve_forever()

asyncio.run(main())
PY

bad=0
# check LABEL WANT PORT [CHATLOAD OPTIONS]: one run; WANT is the
# "complete=... order=..." the run must report.
check() {
	local label=$1 want=$2 p=$3 out got verdict=ok
	shift 3
	out=$(timeout 60 "$TMP/chatload" -c "$CLIENTS" -n "$COUNT" "$@" "$p" 2>"$TMP/load.err")
	got=$(echo "$out" | grep -o 'complete=[a-z]* order=[a-z]*')
	[ "$got" = "$want" ] || verdict=WRONG bad=1
	printf '%-5s %-34s want %-24s got: %s\n' "$verdict" "$label" "$want" "${out:-nothing}"
	[ "$verdict" = ok ] || sed 's/^/        /' "$TMP/load.err"
}

# server NAME CMD...: starts a sockctl-style server (readiness line) and
# sets $port.
server() {
	local name=$1
	shift
	BG_STDOUT=/dev/null bg "$name" "$@"
	wait_ready "$name"
}

machine
echo "# chatload: $CLIENTS receivers x $COUNT lines a run"
for mux in $MUXES; do
	server "s_$mux" "$SOCKCTL" --mux="$mux" chat serve --flood=0 0
	check "sockctl chat serve --mux=$mux" "complete=yes order=ok" "$port" -W 1000 -w 600
	check "  the same, one client stalled" "complete=yes order=ok" "$port" -W 1000 -w 600 -s
done
p=$(free_port)
BG_STDOUT=/dev/null bg ncat ncat --chat -m 1000 -l 127.0.0.1 "$p"
wait_listen "$p"
idle=$(open_fds "$ncat_pid")
check "ncat --chat (tags inside lines)" "complete=yes order=ok" "$p" -w 0 -W 1000
# ncat must close the last run's sockets before a client joins: it exits
# when getpeername fails on a reset one while it announces the newcomer.
wait_fds "$ncat_pid" "$idle" 10
check "  the same, no window" "complete=yes order=ok" "$p" -w 0 -W 0

for mode in drop swap damage stop; do
	bg "relay_$mode" python3 "$TMP/relay.py" "$mode" "$TMP/relay_$mode.port"
	for ((i = 0; i < 500; i++)); do
		[ -s "$TMP/relay_$mode.port" ] && break
		sleep 0.01
	done
	p=$(cat "$TMP/relay_$mode.port")
	case $mode in
	drop) want="complete=no order=bad" ;;
	swap) want="complete=yes order=bad" ;;
	damage) want="complete=no order=bad" ;;
	stop) want="complete=no order=ok" ;;
	esac
	# python is slow: its own small run (a later -c and -n win)
	check "relay that does $mode" "$want" "$p" -w 0 -t 5 -c 20 -n 2000
done
server discard "$SOCKCTL" serve -k --discard 0
check "sockctl serve -k --discard" "complete=no order=ok" "$port" -w 0 -t 3
machine
exit $bad
