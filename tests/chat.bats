#!/usr/bin/env bats
# sockctl chat serve / chat connect, with sockctl and plain nc clients.
# sockctl: per-backend
load helpers
load chat_lib

tmp() { echo "$BATS_TEST_TMPDIR/$1"; }

@test "chat: a room of sockctl and nc clients, every command, rooms, notices" {
	chat_serve srv
	join alice alice
	nc_join bob bob
	sees alice "*** bob joined"

	# Nicknames are unique case-insensitively and validated.
	say bob "/nick ALICE" "/nick <evil>"
	sees bob "*** nick ALICE is taken"
	sees bob "*** invalid nick '<evil>'"

	say alice "hello bob"
	sees bob "<alice> hello bob"
	sees srv "[lobby] <alice> hello bob"
	say bob "/me waves"
	sees alice "* bob waves"

	join carol carol --room dev
	sees carol "*** in dev: carol"
	say bob "/msg Alice psst, secret"
	sees alice "*bob* psst, secret"
	sees bob "-> *alice* psst, secret"
	say bob "/who" "/rooms"
	sees bob "*** in lobby: "
	sees bob "dev (1)"
	sees bob "lobby (2)"
	run grep -F "*** in lobby:" "$(tmp bob.out)"
	[[ $output == *alice* && $output == *bob* && $output != *carol* ]]

	say bob "/join #dev"
	sees alice "*** bob left (joined dev)"
	sees carol "*** bob joined"
	sees bob "*** in dev: "
	say bob "/nick robert" "in dev now"
	sees carol "*** bob is now known as robert"
	sees carol "<robert> in dev now"
	say bob "/help" "/frob" "//slash at the start"
	sees bob "/msg NAME TEXT"
	sees bob "*** unknown command /frob (try /help)"
	sees carol "<robert> /slash at the start"
	say bob "/quit bye all"
	sees carol "*** robert left (quit: bye all)"
	sees bob "*** bye"
	hangup bob
	wait_exit "$bob_pid"
	[ "$status" -eq 0 ]

	# Private lines stay private; other rooms stay apart; the sender gets
	# no copy of its own lines; addresses are never shown by default.
	never_saw carol "hello bob"
	never_saw carol "psst"
	never_saw srv "psst"
	never_saw alice "in dev now"
	never_saw alice "<alice> hello bob"
	for f in alice bob carol; do never_saw "$f" "127.0.0.1"; done

	hangup alice
	wait_exit "$alice_pid"
	[ "$status" -eq 0 ]
	sees srv "[lobby] *** alice left"
}

@test "chat: UTF-8 round trip, control characters, split reads and long lines" {
	chat_serve srv --max-line=64
	join rx rx
	python3 - "$port" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"/nick tx\n")
time.sleep(0.05)
# One line in three writes, two lines in one write.
for part in (b"hel", b"lo\nwor", b"ld\n\xe2\x82\xac gr\xc3\xbc\xc3\x9fe \xf0\x9f\x98\x80\n"):
    s.sendall(part)
    time.sleep(0.05)
s.sendall(b"a\x1b[31mred\x1b]0;title\x07 \x7fbell\x07 tab\there\r\n")
s.sendall(b"bad \xff\xfe bytes \xc0\xaf end\n")
s.sendall(b"L" * 200 + b"\n" + b"after the long line\n")
s.sendall(b"/quit\n")
s.settimeout(10)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
sys.stdout.buffer.write(data)
EOF
	sees rx "<tx> after the long line"
	local out
	out=$(cat "$(tmp rx.out)")
	[[ $out == *"<tx> hello"$'\n'"<tx> world"$'\n'* ]]
	[[ $out == *"<tx> € grüße 😀"* ]]
	[[ $out == *"<tx> a[31mred]0;title bell tab here"$'\n'* ]]
	[[ $out == *"<tx> bad �� bytes � end"* ]]
	[[ $out == *"<tx> $(printf 'L%.0s' {1..64})"$'\n'* ]]
	[[ $out != *LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL* ]]
	# No escape or control byte got through, and every line names its
	# sender (the tail of the long line did not become a line).
	run grep -c $'[\x01-\x08\x0b-\x1f\x7f]' "$(tmp rx.out)"
	[ "$output" = 0 ]
	run grep -vE '^(<[^ >]+> |\*\*\* )' "$(tmp rx.out)"
	[ -z "$output" ]
}

@test "chat: the sender is told when its line was cut" {
	chat_serve srv --max-line=32
	nc_join tx tx
	say tx "$(printf 'x%.0s' {1..40})"
	sees tx "*** your line was longer than 32 bytes: it was cut"
}

@test "chat: 500 clients joining and leaving quickly" {
	chat_serve srv --flood=0
	join watch watch
	python3 - "$port" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
for rnd in range(2):
    socks = []
    for i in range(250):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"/nick u%d_%d\nhi\n" % (rnd, i))
        socks.append(s)
    for i, s in enumerate(socks):
        if i % 2:
            s.sendall(b"/quit\n")
            s.close()
        else:
            # Abrupt: a reset instead of a goodbye.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
EOF
	# The server is still there, and only the living are in the room.
	join check check
	say check "/who"
	sees check "*** in lobby: "
	run grep -F "*** in lobby:" "$(tmp check.out)"
	[[ $output == "*** in lobby: check watch" ]]
	kill -0 "$srv_pid"
}

@test "chat: a client that stops reading is dropped; the room keeps flowing" {
	chat_serve srv --flood=0 --queue=65536
	join rx rx
	# A client that writes but never reads its socket.
	start_bg stuck bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
		printf "/nick stuck\nI will not read\n" >&3 && exec sleep 60' _ "$port"
	sees rx "<stuck> I will not read"
	nc_join tx tx
	# 10 x 500 lines of 100 bytes, each batch sent once rx has the last
	# one: rx never falls far behind, stuck falls 500 KB behind.
	local b i
	for ((b = 0; b < 10; b++)); do
		for ((i = 0; i < 500; i++)); do
			printf 'line %d %090d\n' $((b * 500 + i)) 0
		done >&"$tx_fd"
		sees rx "<tx> line $((b * 500 + 499)) "
	done
	sees rx "*** stuck left (dropped: not reading)"
	run grep -c "^<tx> line [0-9]* 0*$" "$(tmp rx.out)"
	[ "$output" = 5000 ]
}

@test "chat: the drop notice starts a line of its own, after a half-sent line" {
	chat_serve srv --flood=0 --queue=65536
	join rx rx
	# A reader that keeps its window small and reads a little now and
	# then: its socket takes part of a line and soon has a few bytes of
	# room again, but never enough to be writable, when its queue fills.
	start_bg stuck timeout "$T" python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"/nick stuck\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
    time.sleep(0.03)
sys.stdout.buffer.write(data)' "$port"
	sees rx "*** stuck joined"
	nc_join tx tx
	local b i
	for ((b = 0; b < 20; b++)); do
		for ((i = 0; i < 500; i++)); do
			printf 'line %d %090d\n' $((b * 500 + i)) 0
		done >&"$tx_fd"
		sees rx "<tx> line $((b * 500 + 499)) "
		grep -qF "*** stuck left (dropped: not reading)" "$(tmp rx.out)" && break
	done
	sees rx "*** stuck left (dropped: not reading)"
	wait_exit "$stuck_pid"
	[ "$status" -eq 0 ]
	# The notice arrived, last and alone on its line: not glued to the
	# part of a line the socket took before it.
	run grep -a -c "dropped: your output queue" "$(tmp stuck.out)"
	[ "$output" = 1 ]
	run grep -a -x -c "\*\*\* dropped: your output queue is full (not reading)" "$(tmp stuck.out)"
	[ "$output" = 1 ]
	[ "$(tail -n 1 "$(tmp stuck.out)")" = "*** dropped: your output queue is full (not reading)" ]
}

@test "chat connect: a stdout read late loses no line, and the room goes on" {
	chat_serve srv --flood=0
	join rx rx
	# A script's client whose stdout is a pipe nobody reads for now: it
	# stops reading the server, the server queues for it.
	local in=$BATS_TEST_TMPDIR/slow.in out=$BATS_TEST_TMPDIR/slow.fifo
	mkfifo "$in" "$out"
	_bg_fresh slow
	timeout "$T" "$SOCKCTL" chat connect --name slow 127.0.0.1 "$port" <"$in" >"$out" \
		2>"$BATS_TEST_TMPDIR/slow.err" 7>&- 8>&- 9>&- &
	slow_pid=$!
	_bg_pids+=("$slow_pid")
	exec 8>"$in" 9<"$out"
	sees rx "*** slow joined"
	nc_join tx tx
	local b i
	for ((b = 0; b < 4; b++)); do
		for ((i = 0; i < 500; i++)); do
			printf 'line %d %090d\n' $((b * 500 + i)) 0
		done >&"$tx_fd"
		sees rx "<tx> line $((b * 500 + 499)) "
	done
	# Its input ends: it leaves once the server has sent it the rest.
	exec 8>&-
	timeout "$T" cat <&9 >"$BATS_TEST_TMPDIR/slow.out"
	exec 9<&-
	wait_exit "$slow_pid"
	[ "$status" -eq 0 ]
	run grep -c "^<tx> line [0-9]* 0*$" "$BATS_TEST_TMPDIR/slow.out"
	[ "$output" = 2000 ]
	run grep -o "^<tx> line [0-9]*" "$BATS_TEST_TMPDIR/slow.out"
	for ((i = 0; i < 2000; i++)); do [ "${lines[i]}" = "<tx> line $i" ]; done
	never_saw rx "slow left (dropped"
}

@test "chat: flood limit holds lines back without losing them; --max-clients" {
	chat_serve srv --flood=10 --max-clients=2
	join rx rx
	nc_join tx tx
	run timeout "$T" nc -N 127.0.0.1 "$port" </dev/null
	[[ $output == *"*** server full"* ]]
	local i
	for ((i = 1; i <= 25; i++)); do echo "burst $i"; done >&"$tx_fd"
	sees rx "<tx> burst 25"
	sees tx "*** flood limit: 10 lines a second"
	run grep -c "^<tx> burst" "$(tmp rx.out)"
	[ "$output" = 25 ]
	run grep "^<tx> burst" "$(tmp rx.out)"
	for ((i = 1; i <= 25; i++)); do [ "${lines[i - 1]}" = "<tx> burst $i" ]; done
}

@test "chat: the server posts its stdin as @server; SIGTERM tells clients and exits" {
	chat_serve srv --show-addresses
	join rx rx
	say srv "hello from the desk"
	sees rx "<@server> hello from the desk"
	say rx "/who"
	sees rx "*** in lobby: rx (127.0.0.1:"
	# The signal goes to the server itself, not to the timeout around it.
	local server
	server=$(pgrep -P "$srv_pid")
	[ -n "$server" ]
	kill -TERM "$server"
	sees rx "*** server shutting down"
	wait_exit "$srv_pid"
	[ "$status" -eq 0 ]
	wait_exit "$rx_pid"
	[ "$status" -eq 0 ]
}

@test "chat: usage errors and a refused connection" {
	run --separate-stderr "$SOCKCTL" chat
	assert_failure 2
	[[ $stderr == "sockctl chat: missing subcommand"* ]]
	run --separate-stderr "$SOCKCTL" chat serve
	assert_failure 2
	[[ $stderr == "sockctl chat serve: missing PORT"* ]]
	run --separate-stderr "$SOCKCTL" chat serve --flood=x 0
	assert_failure 2
	run --separate-stderr "$SOCKCTL" chat connect --name 'a b' 127.0.0.1 1
	assert_failure 2
	[[ $stderr == "sockctl chat connect: --name 'a b': must not contain spaces"* ]]
	local p
	p=$(free_port)
	run --separate-stderr timeout "$T" "$SOCKCTL" chat connect 127.0.0.1 "$p" </dev/null
	assert_failure 1
	[ "$stderr" = "sockctl: connect 127.0.0.1:$p: Connection refused" ]
}

@test "chat: global options between chat and its subcommand (and for http)" {
	# A backend other than the one in the environment, to see it applied.
	local m=select
	[[ ${SOCKCTL_MUX:-} == select ]] && m=poll
	chat_start srv "$SOCKCTL" chat --mux="$m" -4 serve 0
	wait_file_contains "$BATS_TEST_TMPDIR/srv.err" "listening on " "$T"
	wait_ready srv
	grep -qF "(tcp, mux=$m)" "$BATS_TEST_TMPDIR/srv.err"
	chat_start alice "$SOCKCTL" chat -v --mux="$m" connect --name alice 127.0.0.1 "$port"
	sees alice "*** you are now alice"
	grep -qF "chat: connected to 127.0.0.1:$port" "$BATS_TEST_TMPDIR/alice.err"

	run --separate-stderr "$SOCKCTL" chat --mux=nope serve 0
	assert_failure 2
	[[ $stderr == "sockctl chat serve: unknown mux backend 'nope'"* ]]
	run --separate-stderr "$SOCKCTL" chat --bogus serve 0
	assert_failure 2
	[[ $stderr == "sockctl chat: unknown option '--bogus'"* ]]
	run --separate-stderr "$SOCKCTL" chat -q
	assert_failure 2
	[[ $stderr == "sockctl chat: missing subcommand: serve or connect"* ]]
	run --separate-stderr "$SOCKCTL" http --mux=nope get http://127.0.0.1:1/
	assert_failure 2
	[[ $stderr == "sockctl http get: unknown mux backend 'nope'"* ]]
	run "$SOCKCTL" http -q serve --help
	assert_success
	[[ $output == *"usage: sockctl http serve"* ]]
}

@test "chat: every command answers, also with missing or extra arguments" {
	chat_serve srv
	nc_join bob bob
	nc_join tx tx
	say tx "/me" "/me   " "/msg" "/msg bob" "/msg bob   " "/nick" "/nick a b" \
		"/join" "/join a b" "/who lobby" "/rooms all" "/echo" "/echo maybe" \
		"/help me" "/" "/msg tx done"
	sees tx "*tx* done"
	# One answer per command, in order (/help's is the whole list).
	run sed -n '/you are now tx/,$p' "$BATS_TEST_TMPDIR/tx.out"
	local help
	help=$(grep -c '^\*\*\*   ' <<<"$output")
	[ "$help" -ge 9 ]
	run grep -v '^\*\*\*   ' <<<"$output"
	assert_output - <<'OUT'
*** you are now tx
*** usage: /me TEXT
*** usage: /me TEXT
*** usage: /msg NAME TEXT
*** usage: /msg NAME TEXT
*** usage: /msg NAME TEXT
*** you are tx
*** usage: /nick NAME
*** you are in lobby
*** usage: /join ROOM
*** usage: /who
*** usage: /rooms
*** usage: /echo on|off
*** usage: /echo on|off
*** commands:
*** unknown command / (try /help)
*tx* done
-> *tx* done
OUT
	# Nothing of it reached the room, and tx kept its name and room.
	say bob "/who"
	sees bob "*** in lobby: "
	run grep -F "*** in lobby:" "$BATS_TEST_TMPDIR/bob.out"
	[[ " ${output#*: } " == *" bob "* && " ${output#*: } " == *" tx "* ]]
	run grep -E '^\* |^<tx>' "$BATS_TEST_TMPDIR/bob.out"
	[ -z "$output" ]
}
