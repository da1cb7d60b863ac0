#!/usr/bin/env bats
# sockctl http get against real servers: python3 -m http.server, nginx,
# and a scripted peer (tests/http_get_peer.py) for chunked bodies,
# redirects and broken replies.
# sockctl: per-backend
load helpers
load http_get_lib

@test "python http.server: bodies byte for byte, -o, -I, --json, --fail, -L" {
	local www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www/dir"
	head -c 300000 /dev/urandom >"$www/blob.bin"
	printf 'in a dir\n' >"$www/dir/index.html"
	pyhttp_bg "$www"
	local u=http://127.0.0.1:$port

	get -o "$BATS_TEST_TMPDIR/blob" "$u/blob.bin"
	cmp "$www/blob.bin" "$BATS_TEST_TMPDIR/blob"
	get "$u/blob.bin" | cmp - "$www/blob.bin"
	# A reader that goes away: curl's 23, one line naming the output.
	run bash -c "timeout $T '$SOCKCTL' http get '$u/blob.bin' | true; exit \${PIPESTATUS[0]}"
	assert_failure 23
	assert_output 'sockctl: write output: Broken pipe'

	run -0 get -I "$u/blob.bin"
	assert_line --regexp '^HTTP/1\.[01] 200 '
	assert_line --partial 'Content-Length: 300000'

	run -0 get --json "$u/blob.bin" "$u/missing"
	[[ ${#lines[@]} -eq 2 ]]
	"$PY" -c '
import json, sys
a, b = (json.loads(l) for l in sys.stdin)
assert a["status"] == 200 and a["body_bytes"] == 300000 and a["exit"] == 0, a
assert ["Content-Length", "300000"] in a["headers"], a
assert all(a["timing"][k] >= 0 for k in ("lookup", "connect", "first_byte", "total"))
assert a["timing"]["total"] >= a["timing"]["first_byte"] >= a["timing"]["connect"]
assert b["status"] == 404, b' <<<"$output"

	run -22 get --fail "$u/missing"
	assert_output --partial 'HTTP 404'
	refute_output --partial 'DOCTYPE'

	# /dir answers 301 Location: /dir/ (a relative reference).
	run -0 get "$u/dir"
	refute_output --partial 'in a dir'
	run -0 get -L "$u/dir"
	assert_output 'in a dir'
}

@test "a reader that stops: --max-time still ends the URL; a slow reader is waited for" {
	local www=$BATS_TEST_TMPDIR/www t=$BATS_TEST_TMPDIR
	mkdir -p "$www"
	# More than a full pipe can hold even when its slots hold whole
	# socket buffers (a body spliced into it from the socket).
	head -c 8000000 /dev/urandom >"$www/blob.bin"
	pyhttp_bg "$www"
	local u=http://127.0.0.1:$port

	# Held open for reading and never read: the pipe fills and stays full.
	mkfifo "$t/stalled"
	exec 5<>"$t/stalled"
	run -28 bash -c 'exec timeout "$1" "$2" http get -m 0.5 "$3" >"$4"' _ \
		"$T" "$SOCKCTL" "$u/blob.bin" "$t/stalled"
	exec 5>&-
	assert_output --partial 'timed out after 0.500 s'

	# The reader's pause (longer than --idle-timeout) is what is tested
	# here, not a wait for something: the body is held back, not lost.
	run -0 bash -c 'set -o pipefail; timeout "$1" "$2" http get --idle-timeout 0.3 "$3" |
		{ sleep 1; cat; } | cmp - "$4"' _ "$T" "$SOCKCTL" "$u/blob.bin" "$www/blob.bin"
}

@test "nginx: keep-alive across URLs, ranges, conditional requests, redirects" {
	local www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www/sub"
	printf '0123456789abcdefghij' >"$www/f.txt"
	printf 'sub index\n' >"$www/sub/index.html"
	nginx_bg "$www"
	local u=http://127.0.0.1:$port

	# Three URLs to one origin travel on one connection.
	run -0 get "$u/f.txt" "$u/f.txt" "$u/sub/"
	assert_output $'0123456789abcdefghij0123456789abcdefghijsub index'
	wait_file_contains "$BATS_TEST_TMPDIR/nginx-access.log" 'GET /sub/'
	run awk '{ print $1 }' "$BATS_TEST_TMPDIR/nginx-access.log"
	[[ ${#lines[@]} -eq 3 && ${lines[0]} == "${lines[1]}" && ${lines[1]} == "${lines[2]}" ]] ||
		fail "not one connection: $(cat "$BATS_TEST_TMPDIR/nginx-access.log")"
	run awk '{ print $2 }' "$BATS_TEST_TMPDIR/nginx-access.log"
	assert_output $'1\n2\n3'

	run -0 get --range 2-5 "$u/f.txt"
	assert_output '2345'
	run -0 get -i --range -3 "$u/f.txt"
	assert_line --regexp '^HTTP/1\.1 206 '
	assert_line --partial 'Content-Range: bytes 17-19/20'
	assert_line --partial 'hij'
	run -0 get -i --range 0-0,5-6 "$u/f.txt"
	assert_line --partial 'multipart/byteranges'
	assert_line --regexp $'^0\r?$'
	assert_line --regexp $'^56\r?$'

	# Not modified since the file's own mtime; modified since 1994.
	run -0 get -i --if-modified-since "$www/f.txt" "$u/f.txt"
	assert_line --regexp '^HTTP/1\.1 304 '
	refute_output --partial '0123'
	run -0 get --if-modified-since 'Sun, 06 Nov 1994 08:49:37 GMT' "$u/f.txt"
	assert_output '0123456789abcdefghij'

	# nginx redirects /sub to an absolute http://127.0.0.1:PORT/sub/.
	run -0 get -L --timing "$u/sub"
	assert_line 'sub index'
	assert_line --regexp "^sockctl: $u/sub: lookup [0-9.]+ s, connect [0-9.]+ s, first byte [0-9.]+ s, total [0-9.]+ s$"
}

@test "large bodies into pipes, files, appends and /dev/null: every byte, keep-alive kept" {
	local www=$BATS_TEST_TMPDIR/www t=$BATS_TEST_TMPDIR
	mkdir -p "$www"
	head -c 3000000 /dev/urandom >"$www/blob"
	nginx_bg "$www"
	local u=http://127.0.0.1:$port

	# Where both ends splice, the body goes socket -> output without a
	# copy: into a pipe, a file, /dev/null; the pipe read slowly too.
	get "$u/blob" | cmp - "$www/blob"
	get "$u/blob" | { sleep 0.5; cat; } | cmp - "$www/blob"
	get -o "$t/out" "$u/blob"
	cmp "$t/out" "$www/blob"
	run -0 get -o /dev/null -w '%{size_download} %{http_code}' "$u/blob" "$u/blob"
	assert_output '3000000 2003000000 200'
	# An O_APPEND file refuses splice: the copy path takes over.
	printf 'before\n' >"$t/app"
	get "$u/blob" "$u/blob" >>"$t/app"
	cmp "$t/app" <(printf 'before\n'; cat "$www/blob" "$www/blob")
	# Resuming appends to the part already there.
	head -c 1000000 "$www/blob" >"$t/part"
	get -C - -o "$t/part" "$u/blob"
	cmp "$t/part" "$www/blob"
	# Three bodies on one connection: the splice never reads past one.
	: >"$t/nginx-access.log"
	run -0 bash -c 'timeout "$1" "$2" http get "$3" "$3" "$3" | cmp - <(cat "$4" "$4" "$4")' _ \
		"$T" "$SOCKCTL" "$u/blob" "$www/blob"
	# nginx logs each request after its last send: wait for all three.
	local i
	for ((i = 0; i < 500; i++)); do
		[[ $(grep -c 'GET /blob' "$t/nginx-access.log") -ge 3 ]] && break
		sleep 0.01
	done
	run awk '{ print $1 }' "$t/nginx-access.log"
	[[ ${#lines[@]} -eq 3 && ${lines[0]} == "${lines[1]}" && ${lines[1]} == "${lines[2]}" ]] ||
		fail "not one connection: $(cat "$t/nginx-access.log")"

	# Chunked (1 MiB chunks) and close-delimited bodies, from the peer.
	peer_bg
	seq -f %07.0f 0 262143 >"$t/big"
	get "http://127.0.0.1:$port/big-chunked" | cmp - "$t/big"
	get "http://127.0.0.1:$port/big-close" | cmp - "$t/big"
	run -0 bash -c 'timeout "$1" "$2" http get "$3/big-chunked" "$3/conn"' _ "$T" "$SOCKCTL" \
		"http://127.0.0.1:$port"
	# The peer numbers connections from 1: the two before took 1 and 2.
	[[ ${#output} -eq $((2097152 + 12)) && $output == *$'\nconnection 3' ]] ||
		fail "the next request did not follow on the same connection: ${output: -40}"
}

@test "after a large body, a server that sent more than its length: the next URL goes on a new connection" {
	peer_bg
	local u=http://127.0.0.1:$port
	# The peer numbers its connections from 1: the next URL goes on a
	# second one, and its body is whole.
	run -0 bash -c 'timeout "$1" "$2" http get "$3/overlong" "$3/conn"' _ "$T" "$SOCKCTL" "$u"
	[[ ${#output} -eq $((300000 + 12)) && $output == *$'\nconnection 2' ]] ||
		fail "the next URL was not sent on a new connection: ${output: -60}"
}

@test "chunked bodies split anywhere, keep-alive, redirects, request headers" {
	peer_bg
	local u=http://127.0.0.1:$port
	run -0 get "$u/chunked"
	assert_output 'hello, chunked world'
	# Chunked then length-framed on one kept-alive connection.
	run -0 get "$u/chunked" "$u/conn" "$u/chunked" "$u/conn"
	assert_output --regexp $'^hello, chunked worldconnection ([0-9]+)\nhello, chunked worldconnection [0-9]+$'
	[[ ${lines[0]##* } == "${lines[1]##* }" ]] || fail "two connections: $output"
	run -0 get --json "$u/chunked"
	assert_output --partial '"body_bytes":20'
	refute_output --partial 'X-Trailer'

	# Redirects: relative and bounded.
	run -0 get -L "$u/redirect/3"
	assert_output 'hello, chunked world'
	run -0 get -L --json "$u/redirect/2"
	assert_output --partial '"redirects":3'
	assert_output --partial "\"final_url\":\"$u/chunked\""
	run -0 get "$u/redirect/1"
	assert_output 'moved'
	run -47 get -L --max-redirs 3 "$u/loop"
	assert_output --partial 'more than 3 redirects'

	# -H adds and overrides; 'Name:' removes a default header.
	run -0 get -H 'X-One: 1' -H 'User-Agent: probe/1' -H 'Accept:' "$u/headers"
	assert_line 'x-one=1'
	assert_line 'user-agent=probe/1'
	assert_line "host=127.0.0.1:$port"
	refute_line --partial 'accept='
	run -2 get -H $'X-Evil: a\r\nInjected: 1' "$u/headers"
	run -2 get -H 'no colon' "$u/headers"
}

@test "broken replies and failures have curl's exit codes" {
	peer_bg
	local u=http://127.0.0.1:$port
	run -18 get "$u/truncated"
	assert_output --partial 'closed before the end of the response'
	run -18 get "$u/truncated-chunked"
	run -52 get "$u/empty"
	assert_output --partial 'empty reply'
	run -8 get "$u/malformed"
	assert_output --partial 'malformed response header line'
	run -8 get "$u/smuggle"
	assert_output --partial 'Content-Length'
	run -28 get --max-time 0.3 "$u/stall"
	assert_output --partial 'timed out after 0.300 s'
	run -28 get --idle-timeout 0.3 "$u/stall"
	# The server closes after its answer: the next URL reconnects.
	run -0 get "$u/close-after" "$u/conn"
	assert_output --regexp '^byeconnection [0-9]+$'

	run -7 get "http://127.0.0.1:$(unused_port)/"
	assert_output --regexp 'connect 127\.0\.0\.1:[0-9]+: Connection refused'
	run -6 get -n http://no-such-host.invalid/
	run -1 get ftp://127.0.0.1/
	assert_output --partial "unsupported URL scheme 'ftp'"
	run -3 get 'http://127.0.0.1/a b'
	run -3 get 'http://user:pw@127.0.0.1/'
	run -2 get --range abc "$u/"
	run -2 get --if-modified-since yesterday "$u/"
	run -2 get
	# Several URLs: every one is tried, the exit status is the last failure.
	run -52 get "$u/truncated" "$u/empty" "$u/conn"
	assert_output --partial 'only this'
	assert_output --partial 'connection'
}

@test "http get --help lists its options and exit codes" {
	run -0 "$SOCKCTL" http get --help
	assert_output --partial '--if-modified-since'
	assert_output --partial '28 timeout'
	run -0 "$SOCKCTL" help http
	assert_output --partial 'http get'
}
