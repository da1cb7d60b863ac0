#!/usr/bin/env bats
# sockctl http serve, with curl (and raw sockets for what curl will not
# send) as the client: conformance, the path jail and the attack cases.
# sockctl: per-backend
load helpers

setup() {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www/sub" "$www/.hidden"
	printf 'hello\n' >"$www/a.txt"
	printf '0123456789abcdefghij' >"$www/digits.txt"
	printf 'secret\n' >"$www/.env"
	printf '<p>index</p>\n' >"$www/sub/index.html"
	printf 'outside\n' >"$BATS_TEST_TMPDIR/secret.txt"
}

# hs NAME ARGS...: starts `sockctl http serve ARGS` on port 0 and waits.
hs() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" http serve "$@" 0
	wait_ready "$name"
}

get() {
	timeout "$T" curl -sS -g --path-as-is "$@"
}

# codes URL...: the status of each URL, space-separated.
codes() {
	local u
	for u in "$@"; do
		get -o /dev/null -w '%{http_code} ' "$u"
	done
}

# raw PORT BYTES: sends BYTES (printf %b escapes: \r \n \x00) on one
# connection, shuts the write side and prints all it gets until the server
# closes.
raw() {
	printf '%b' "$2" | timeout "$T" nc -N 127.0.0.1 "$1"
}

# statuses: the status codes of the answers in $output, space-separated.
statuses() {
	grep -o 'HTTP/1.1 [0-9]*' <<<"$output" | cut -d' ' -f2 | tr '\n' ' '
}

@test "files, HEAD, index.html, listing, MIME, dotfiles hidden, loopback by default" {
	hs srv -d "$www"
	[[ $addr == 127.0.0.1:* ]]
	grep -q "serving $www at http://127.0.0.1:$port/" "$BATS_TEST_TMPDIR/srv.err"
	run get -i "http://127.0.0.1:$port/a.txt"
	assert_success
	assert_output --partial $'HTTP/1.1 200 OK\r'
	assert_output --partial $'Content-Type: text/plain\r'
	assert_output --partial $'Content-Length: 6\r'
	assert_output --partial 'ETag: "'
	assert_output --partial 'Last-Modified: '
	assert_output --partial 'hello'
	run get -I "http://127.0.0.1:$port/digits.txt"
	assert_output --partial $'Content-Length: 20\r'
	refute_output --partial '0123'
	run get "http://127.0.0.1:$port/sub/"
	assert_output '<p>index</p>'
	run get "http://127.0.0.1:$port/"
	assert_output --partial '<a href="./a.txt">a.txt</a>'
	assert_output --partial '<a href="./sub/">sub/</a>'
	refute_output --partial '.env'
	refute_output --partial '.hidden'
	run codes "http://127.0.0.1:$port/.env" "http://127.0.0.1:$port/.hidden/" \
		"http://127.0.0.1:$port/nope"
	assert_output '404 404 404 '
	# the log: one combined line per request
	wait_file_contains "$BATS_TEST_TMPDIR/srv.out" '"GET /nope HTTP/1.1" 404'
	grep -q '"GET /a.txt HTTP/1.1" 200 6 "-" "curl/' "$BATS_TEST_TMPDIR/srv.out"
}

@test "--no-listing, --dotfiles, a POST with a body, unknown methods" {
	hs srv -d "$www" --no-listing --dotfiles --log-format=none
	run get -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$port/"
	assert_output 403
	run get "http://127.0.0.1:$port/.env"
	assert_output secret
	run get -i -d 'x=1' "http://127.0.0.1:$port/a.txt"
	assert_output --partial '405 Method Not Allowed'
	assert_output --partial $'Allow: GET, HEAD\r'
	# a request body in the same packet as the next request: both answered
	run raw "$port" 'POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nABCDEGET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	assert_output --partial '405 Method Not Allowed'
	assert_output --partial 'hello'
}

@test "keep-alive, and pipelined requests answered in order" {
	hs srv -d "$www" --log-format=none
	run get -v "http://127.0.0.1:$port/a.txt" "http://127.0.0.1:$port/digits.txt"
	assert_output --partial 'Re-using existing connection'
	assert_output --partial '0123456789'
	run raw "$port" 'GET /digits.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.0\r\n\r\n'
	assert_success
	# in order: 200 (digits), 200 (HEAD, no body), 404, 200 then close
	[[ $(statuses) == '200 200 404 200 ' ]]
	[[ $output == *0123456789abcdefghij*HTTP/1.1\ 200*HTTP/1.1\ 404*hello* ]]
	[[ $(grep -c '^hello' <<<"$output") -eq 1 ]]
}

@test "line ends: LF-only and mixed heads answered, a body after them exact, a bare CR refused at once" {
	hs srv -d "$www" --upload --log-format=none
	run raw "$port" 'GET /a.txt HTTP/1.0\n\n'
	assert_output --partial $'HTTP/1.1 200 OK\r'
	assert_output --partial hello
	# pipelined LF-only and mixed heads, each answered once, in order
	run raw "$port" 'GET /a.txt HTTP/1.1\nHost: x\n\nGET /digits.txt HTTP/1.1\r\nHost: x\n\r\nHEAD /a.txt HTTP/1.1\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\n'
	[[ $(statuses) == '200 200 200 404 ' ]] || fail "$output"
	[[ $output == *hello*0123456789abcdefghij* ]]
	[[ $(grep -c '^hello' <<<"$output") -eq 1 ]]
	# the body starts right after the blank line, whatever the line ends
	run raw "$port" 'PUT /lf.txt HTTP/1.1\nHost: x\nContent-Length: 4\n\nWXYZGET /a.txt HTTP/1.1\nHost: x\n\n'
	[[ $(statuses) == '201 200 ' ]] || fail "$output"
	[[ $(cat "$www/lf.txt") == WXYZ ]]
	run raw "$port" 'PUT /mix.txt HTTP/1.1\r\nHost: x\nContent-Length: 3\n\r\n\r\nZGET /a.txt HTTP/1.1\nHost: x\n\n'
	[[ $(statuses) == '201 200 ' ]] || fail "$output"
	[[ $(od -An -c "$www/mix.txt" | tr -d ' ') == '\r\nZ' ]]
	# a CR not before an LF: 400 as soon as it is seen, not silence until
	# the head deadline (the head here never ends)
	run raw "$port" 'GET /a.txt HTTP/1.1\r\nHost: x\rX: y'
	assert_output --partial '400 Bad Request'
	run raw "$port" 'GET /a.txt HTTP/1.1\nHost: x\n\r\r\n'
	assert_output --partial '400 Bad Request'
	refute_output --partial hello
}

@test "--upload keeps the connection: pipelined requests after a body, HTTP/1.0 keep-alive, curl reuses it" {
	hs srv -d "$www" --upload --log-format=none
	# a HEAD and a GET pipelined behind a PUT's body are answered, and
	# the 201 does not say Connection: close
	run raw "$port" 'PUT /p.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nABCDHEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n'
	[[ $(statuses) == '201 200 200 ' ]] || fail "$output"
	refute_output --partial 'Connection: close'
	[[ $(grep -c '^hello' <<<"$output") -eq 1 ]]
	[[ $(cat "$www/p.txt") == ABCD ]]
	run raw "$port" 'PUT /p10.txt HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhiGET /a.txt HTTP/1.0\r\n\r\n'
	[[ $(statuses) == '201 200 ' ]] || fail "$output"
	[[ $output == *$'201 Created\r\n'*$'Connection: keep-alive\r\n'*$'200 OK\r\n'* ]]
	[[ $(cat "$www/p10.txt") == hi ]]
	printf 'one' >"$BATS_TEST_TMPDIR/f1"
	printf 'two' >"$BATS_TEST_TMPDIR/f2"
	run get -v -T "$BATS_TEST_TMPDIR/f1" "http://127.0.0.1:$port/c1.txt" \
		-T "$BATS_TEST_TMPDIR/f2" "http://127.0.0.1:$port/c2.txt"
	assert_output --partial 'Re-using existing connection'
	refute_output --partial 'Connection: close'
	[[ $(cat "$www/c1.txt") == one && $(cat "$www/c2.txt") == two ]]
}

@test "an unwanted body is dropped, never read as a request; too big, or held for 100-continue: Connection: close" {
	hs srv -d "$www" --upload --log-format=none
	# a refused PUT (409: a.txt exists) whose body looks like a request
	local fake='GET /nope HTTP/1.1\r\nHost: x\r\n\r\n' n
	n=$(printf '%b' "$fake" | wc -c)
	run raw "$port" "PUT /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: $n\r\n\r\n${fake}GET /digits.txt HTTP/1.1\r\nHost: x\r\n\r\n"
	[[ $(statuses) == '409 200 ' ]] || fail "$output"
	refute_output --partial 'Connection: close'
	# too big to drop: the answer says the connection closes
	run raw "$port" 'POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nxx'
	[[ $(statuses) == '405 ' ]] || fail "$output"
	assert_output --partial $'Connection: close\r'
	# the client waits for 100 Continue: a final answer instead, closing
	run raw "$port" 'PUT /a.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'
	[[ $(statuses) == '409 ' ]] || fail "$output"
	assert_output --partial $'Connection: close\r'
	# an accepted upload gets its 100 Continue in HTTP/1.1, never in 1.0
	run raw "$port" 'PUT /e11.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'
	assert_output --partial '100 Continue'
	run raw "$port" 'PUT /e10.txt HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'
	refute_output --partial '100 Continue'
	[[ ! -e $www/e10.txt && ! -e $www/e11.txt ]]
}

@test "ranges: single, open, suffix, multiple, merged, 416, If-Range" {
	hs srv -d "$www" --log-format=none
	local u="http://127.0.0.1:$port/digits.txt"
	run get -i -r 2-4 "$u"
	assert_output --partial '206 Partial Content'
	assert_output --partial $'Content-Range: bytes 2-4/20\r'
	[[ ${lines[-1]} == 234 ]]
	run get -r 18- "$u"
	assert_output ij
	run get -r -3 "$u"
	assert_output hij
	run get -i -r 0-1,5-6 "$u"
	assert_output --partial 'Content-Type: multipart/byteranges; boundary='
	assert_output --partial $'Content-Range: bytes 0-1/20\r'
	assert_output --partial $'Content-Range: bytes 5-6/20\r'
	# the multipart body is exactly Content-Length long and parses
	local b
	b=$(grep -o 'boundary=[^[:space:]]*' <<<"$output" | cut -d= -f2)
	[[ $output == *"--$b"*01*"--$b"*56*"--$b--"* ]]
	run get -i -r 0-5,3-8 "$u"
	assert_output --partial $'Content-Range: bytes 0-8/20\r'
	run get -i -r 50-60 "$u"
	assert_output --partial '416 Range Not Satisfiable'
	assert_output --partial $'Content-Range: bytes */20\r'
	local etag
	etag=$(get -I "$u" | tr -d '\r' | sed -n 's/^ETag: //p')
	run get -i -r 0-1 -H "If-Range: $etag" "$u"
	assert_output --partial '206 Partial Content'
	run get -i -r 0-1 -H 'If-Range: "stale"' "$u"
	assert_output --partial '200 OK'
	assert_output --partial 0123456789abcdefghij
	# more than 16 ranges: the whole file
	run get -o /dev/null -w '%{http_code}' -r 0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,1-1,3-3,5-5,7-7,9-9,11-11,13-13 "$u"
	assert_output 200
}

@test "conditional requests: If-None-Match and If-Modified-Since" {
	hs srv -d "$www" --log-format=none
	local u="http://127.0.0.1:$port/a.txt" etag lm
	etag=$(get -I "$u" | tr -d '\r' | sed -n 's/^ETag: //p')
	lm=$(get -I "$u" | tr -d '\r' | sed -n 's/^Last-Modified: //p')
	run get -o /dev/null -w '%{http_code}\n' -H "If-None-Match: \"x\", $etag" "$u"
	assert_output 304
	run get -o /dev/null -w '%{http_code}\n' -H 'If-None-Match: "other"' -H "If-Modified-Since: $lm" "$u"
	assert_output 200 # If-None-Match wins over If-Modified-Since
	run get -o /dev/null -w '%{http_code}\n' -H "If-Modified-Since: $lm" "$u"
	assert_output 304
	# compared as dates, not strings: the same instant in asctime form
	local asc
	asc=$(date -u -d "$lm" '+%a %b %e %H:%M:%S %Y')
	run get -o /dev/null -w '%{http_code}\n' -H "If-Modified-Since: $asc" "$u"
	assert_output 304
	run get -o /dev/null -w '%{http_code}\n' -H 'If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT' "$u"
	assert_output 200
}

@test "path attacks: .., %2e%2e, %252e, %00, encoded slashes, CRLF, //host and backslash redirects" {
	mkdir -p "$www/evil.com" "$www/%2e%2e" "$www/\\evil.com"
	hs srv -d "$www" --log-format=none
	local u="http://127.0.0.1:$port" p
	for p in /../secret.txt /sub/../../secret.txt /%2e%2e/secret.txt /%2E%2e%2fsecret.txt \
		/..%2fsecret.txt /a.txt%00.html /sub%2f..%2f..%2fsecret.txt '/a%0d%0aSet-Cookie:%20x' \
		/%ZZ; do
		run get -o /dev/null -w '%{http_code}' "$u$p"
		[[ $output == 400 ]] || fail "$p: $output"
	done
	# decoded once: %252e%252e is the literal directory "%2e%2e"
	run get -i "$u/%252e%252e"
	assert_output --partial $'Location: /%252e%252e/\r'
	# the add-a-slash redirect never names another host
	run get -i "$u//evil.com"
	assert_output --partial $'Location: /evil.com/\r'
	run get -i "$u/%5cevil.com"
	assert_output --partial $'Location: /%5Cevil.com/\r'
	run get -i "$u///evil.com/"
	assert_output --partial '200 OK'
	# raw CR, LF, spaces or NUL in the target never get through
	run raw "$port" 'GET /a.txt\rSet-Cookie: x HTTP/1.1\r\nHost: x\r\n\r\n'
	assert_output --partial '400 Bad Request'
	run raw "$port" 'GET /a.txt\x00 HTTP/1.1\r\nHost: x\r\n\r\n'
	assert_output --partial '400 Bad Request'
	refute_output --partial hello
}

@test "symlinks: inside by default, deny, follow" {
	ln -s ../secret.txt "$www/out.txt"
	ln -s "$BATS_TEST_TMPDIR" "$www/updir"
	ln -s a.txt "$www/in.txt"
	hs inside -d "$www" --log-format=none
	local p1=$port
	hs deny -d "$www" --symlinks=deny --log-format=none
	local p2=$port
	hs follow -d "$www" --symlinks=follow --log-format=none
	local p3=$port
	run codes "http://127.0.0.1:$p1/out.txt" "http://127.0.0.1:$p1/updir/secret.txt" \
		"http://127.0.0.1:$p1/in.txt"
	assert_output '403 403 200 '
	run codes "http://127.0.0.1:$p2/out.txt" "http://127.0.0.1:$p2/in.txt" \
		"http://127.0.0.1:$p2/a.txt"
	assert_output '403 403 200 '
	run get "http://127.0.0.1:$p3/updir/secret.txt"
	assert_output outside
}

@test "listing escapes file names (no XSS), sizes and dates shown" {
	touch "$www/x\"><svg onload=alert(1)>.txt" "$www/a&b.txt"
	hs srv -d "$www" --log-format=none
	run get "http://127.0.0.1:$port/"
	refute_output --partial '<svg'
	assert_output --partial '&lt;svg onload=alert(1)&gt;'
	assert_output --partial 'href="./x%22%3E%3Csvg%20onload%3Dalert%281%29%3E.txt"'
	assert_output --partial '>a&amp;b.txt</a>'
	assert_output --regexp '<td>20</td><td>[A-Z][a-z][a-z], [0-9]{2} [A-Z][a-z]{2} [0-9]{4} '
}

@test "limits: 414, 431, obs-fold, smuggling headers, missing Host, HTTP/2.0" {
	hs srv -d "$www" --log-format=none
	local long
	long=$(printf 'a%.0s' {1..9000})
	run get -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$long"
	assert_output 414
	run get -o /dev/null -w '%{http_code}' -H "X-Big: ${long}${long}" "http://127.0.0.1:$port/a.txt"
	assert_output 431
	local bad
	for bad in 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n  folded\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n' \
		'GET / HTTP/1.1\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost : x\r\n\r\n'; do
		run raw "$port" "$bad"
		[[ $output == "HTTP/1.1 400 Bad Request"* ]] || fail "not refused: $bad"
	done
	run raw "$port" 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
	assert_output --partial '505 HTTP Version Not Supported'
	# the server is still fine
	run get "http://127.0.0.1:$port/a.txt"
	assert_output hello
}

@test "a client dripping its head is closed by the deadline while others are served" {
	hs srv -d "$www" --header-timeout=1 --log-format=none
	# one byte every 0.2 s; the request would take 45 s to complete
	start_bg drip timeout "$T" bash -c '
		trap "" PIPE
		exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " >&3
		for ((i = 0; i < 200; i++)); do
			printf a >&3 2>/dev/null || { echo "closed after $i bytes"; exit 0; }
			sleep 0.2
		done
		echo "never closed"
	' drip "$port"
	# served while the drip goes on (the drip needs 45 s to finish)
	run get "http://127.0.0.1:$port/a.txt"
	assert_output hello
	wait_exit "$drip_pid"
	run cat "$BATS_TEST_TMPDIR/drip.out"
	assert_output --regexp '^closed after [0-9]+ bytes$'
	run get "http://127.0.0.1:$port/digits.txt"
	assert_output 0123456789abcdefghij
}

@test "--respond with --status, --header and --body TEXT or @FILE" {
	hs srv --respond --status 418 --header 'X-Mock: yes' --header 'Access-Control-Allow-Origin: *' --body 'short and stout' --log-format=none
	run get -i "http://127.0.0.1:$port/any/path?q"
	assert_output --partial $'HTTP/1.1 418 '
	assert_output --partial $'X-Mock: yes\r'
	assert_output --partial $'Access-Control-Allow-Origin: *\r'
	assert_output --partial 'short and stout'
	printf '{"ok":true}' >"$BATS_TEST_TMPDIR/body.json"
	hs srv2 --respond --header 'Content-Type: application/json' --body "@$BATS_TEST_TMPDIR/body.json" --log-format=none
	run get -i -X DELETE "http://127.0.0.1:$port/"
	assert_output --partial $'Content-Type: application/json\r'
	refute_output --partial 'text/plain'
	[[ ${lines[-1]} == '{"ok":true}' ]]
	run "$SOCKCTL" http serve --header $'X: a\r\nY: b' 0
	assert_failure 2
	run "$SOCKCTL" http serve --symlinks=maybe 0
	assert_failure 2
	assert_output --partial 'inside, follow or deny'
	run "$SOCKCTL" http serve -d "$BATS_TEST_TMPDIR/none" 0
	assert_failure 1
	assert_output --partial 'No such file or directory'
}

@test "--upload: PUT written atomically, no overwriting unless told, size cap" {
	mkdir "$BATS_TEST_TMPDIR/up"
	hs srv -d "$BATS_TEST_TMPDIR/up" --upload --max-upload=1K --log-format=none
	printf 'first' >"$BATS_TEST_TMPDIR/f1"
	printf 'second' >"$BATS_TEST_TMPDIR/f2"
	head -c 2048 /dev/zero >"$BATS_TEST_TMPDIR/big"
	run get -o /dev/null -w '%{http_code}' -T "$BATS_TEST_TMPDIR/f1" "http://127.0.0.1:$port/new.txt"
	assert_output 201
	[[ $(cat "$BATS_TEST_TMPDIR/up/new.txt") == first ]]
	run get -o /dev/null -w '%{http_code}' -T "$BATS_TEST_TMPDIR/f2" "http://127.0.0.1:$port/new.txt"
	assert_output 409
	[[ $(cat "$BATS_TEST_TMPDIR/up/new.txt") == first ]]
	run get -o /dev/null -w '%{http_code}' -T "$BATS_TEST_TMPDIR/big" "http://127.0.0.1:$port/big"
	assert_output 413
	run get -o /dev/null -w '%{http_code}' -T "$BATS_TEST_TMPDIR/f1" "http://127.0.0.1:$port/../x"
	assert_output 400
	run get "http://127.0.0.1:$port/new.txt"
	assert_output first
	[[ ! -e $BATS_TEST_TMPDIR/up/big ]]
	run ls -A "$BATS_TEST_TMPDIR/up"
	assert_output new.txt # no temporary files left behind
	hs srv2 -d "$BATS_TEST_TMPDIR/up" --upload --overwrite --log-format=none
	run get -o /dev/null -w '%{http_code}' -T "$BATS_TEST_TMPDIR/f2" "http://127.0.0.1:$port/new.txt"
	assert_output 204
	[[ $(cat "$BATS_TEST_TMPDIR/up/new.txt") == second ]]
}

@test "access log: control characters escaped, combined and json" {
	hs srv -d "$www"
	get -o /dev/null -A $'evil\t"ua"\xff' -e 'http://ref/' "http://127.0.0.1:$port/a.txt?x=%1b"
	wait_file_contains "$BATS_TEST_TMPDIR/srv.out" 'GET /a.txt'
	run cat "$BATS_TEST_TMPDIR/srv.out"
	assert_output --regexp '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "GET /a.txt\?x=%1b HTTP/1.1" 200 6 "http://ref/" "evil\\x09\\x22ua\\x22\\xff"$'
	hs js -d "$www" --log-format=json
	get -o /dev/null -A $'a"\xff' "http://127.0.0.1:$port/nope"
	wait_file_contains "$BATS_TEST_TMPDIR/js.out" '"status":404'
	run /usr/bin/python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["method"], d["target"], d["status"], d["user_agent"] == "a\"\u00ff")' "$BATS_TEST_TMPDIR/js.out"
	assert_output 'GET /nope 404 True'
}

@test "access log json: a long user agent of 8-bit bytes is logged whole, as in the combined log" {
	# 255 bytes (what the log keeps of a user agent), each escaped to six
	# characters in JSON: the whole value, not cut short by the escaping.
	local ua i
	ua=$(for ((i = 0; i < 300; i++)); do printf '\xff'; done)
	hs js -d "$www" --log-format=json
	get -o /dev/null -A "$ua" "http://127.0.0.1:$port/a.txt"
	wait_file_contains "$BATS_TEST_TMPDIR/js.out" '"status":200'
	run /usr/bin/python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["user_agent"] == "\u00ff" * 255)' "$BATS_TEST_TMPDIR/js.out"
	assert_output True
	hs cb -d "$www"
	get -o /dev/null -A "$ua" "http://127.0.0.1:$port/a.txt"
	wait_file_contains "$BATS_TEST_TMPDIR/cb.out" '" 200 '
	run grep -c "\"$(for ((i = 0; i < 255; i++)); do printf '%s' '\\xff'; done)\"$" "$BATS_TEST_TMPDIR/cb.out"
	assert_output 1
}

@test "--max-conns: a client past the limit waits in the backlog until a connection ends" {
	hs srv -d "$www" --max-conns=1 --idle-timeout=30 --log-format=none
	local conn line got=
	exec {conn}<>"/dev/tcp/127.0.0.1/$port"
	printf 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n' >&"$conn"
	while IFS= read -r -t "$T" line <&"$conn"; do
		[[ $line == hello ]] && { got=1; break; }
	done
	[[ $got ]] || fail "no answer on the first connection"
	# The one connection allowed is open and idle: nobody else is served.
	run timeout "$T" curl -sS --max-time 1 "http://127.0.0.1:$port/a.txt"
	assert_failure 28
	exec {conn}>&-
	run get "http://127.0.0.1:$port/a.txt"
	assert_output hello
}

@test "--max-conns is capped to what select can hold" {
	hs srv -d "$www" --mux=select -v --max-conns=100000 --log-format=none
	grep -qE -- '--max-conns lowered to [0-9]+ for the select backend' "$BATS_TEST_TMPDIR/srv.err"
	run get "http://127.0.0.1:$port/a.txt"
	assert_output hello
}

@test "--workers 2 serves from both processes and stops with SIGTERM" {
	hs srv -d "$www" --workers 2 --log-format=none
	run get "http://127.0.0.1:$port/a.txt" "http://127.0.0.1:$port/a.txt"
	assert_output $'hello\nhello'
	# A supervisor and two workers.
	[[ $(pgrep -P "$srv_pid" | wc -l) -eq 2 ]]
	local kids
	kids=$(pgrep -P "$srv_pid")
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid"
	assert_equal "$status" 0
	for child in $kids; do
		if kill -0 "$child" 2>/dev/null; then fail "worker $child outlived the server"; fi
	done
}
