#!/usr/bin/env bats
# sockctl http get where scripts use curl: methods and bodies (-X, -d,
# --data-*, --json, -F, -T, -G), credentials and request headers (-u, -A,
# -e, -b), redirects. Each request is sent by curl and by http get to a
# peer that answers with what it received (tests/http_echo_peer.py), and
# the two are compared; nginx and http serve take uploads.
# sockctl: per-backend
load helpers

get() {
	timeout "$T" "$SOCKCTL" http get "$@"
}

PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

echo_bg() {
	start_bg peer "$PY" "$BATS_TEST_DIRNAME/http_echo_peer.py"
	wait_ready peer || fail "the echo peer did not start"
	u=http://127.0.0.1:$port
}

# same_as_curl PATH ARGS...: curl and http get send the same request
# (method, target, body, headers but User-Agent and curl's Expect; the
# multipart boundary, random in both, set aside). Stdin from $IN if set.
same_as_curl() {
	local path=$1 t=$BATS_TEST_TMPDIR
	shift
	timeout "$T" curl -s "$@" "$u$path" <"${IN:-/dev/null}" >"$t/curl.json" ||
		fail "curl $* failed"
	get "$@" "$u$path" <"${IN:-/dev/null}" >"$t/get.json" || fail "http get $* failed"
	"$PY" - "$t/curl.json" "$t/get.json" <<-'PY' || fail "http get $* differs from curl"
		import json, re, sys
		def norm(f):
		    r = json.loads(open(f).read().splitlines()[-1])
		    hs = {k.lower(): v for k, v in r["headers"] if k.lower() not in ("user-agent", "expect")}
		    b = hs.get("content-type", "")
		    m = re.search(r"boundary=(\S+)", b)
		    body = r["body"]
		    if m:
		        hs["content-type"] = b.replace(m.group(1), "B")
		        body = body.replace(m.group(1), "B")
		    return r["method"], r["target"], body, r["body_len"], sorted(hs.items())
		a, b = norm(sys.argv[1]), norm(sys.argv[2])
		if a != b:
		    print("curl:     %r\nhttp get: %r" % (a, b), file=sys.stderr)
		    sys.exit(1)
	PY
}

# field NAME: the echo's field from the last get's output.
field() {
	"$PY" -c 'import json,sys; r=json.loads(sys.stdin.read().splitlines()[-1]); print(r[sys.argv[1]])' "$1" <<<"$output"
}

@test "-d, --data-raw, --data-binary, --data-urlencode, --json, -G, -X: the requests curl sends" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	printf 'one=1\ntwo=2\r\n' >"$t/form.txt"
	printf '{"k": [1, 2]}\n' >"$t/doc.json"
	printf 'a b&c=d\n' >"$t/raw.txt"
	same_as_curl /p -d a=1
	same_as_curl /p -d a=1 -d 'b=x y' --data-ascii c=3
	same_as_curl /p -d ''
	same_as_curl /p -d "@$t/form.txt"
	same_as_curl /p --data-binary "@$t/form.txt"
	same_as_curl /p --data-raw '@not-a-file'
	same_as_curl /p --data-urlencode 'a b&c' --data-urlencode '=x+y' --data-urlencode 'n=é/?'
	same_as_curl /p --data-urlencode "f@$t/raw.txt" --data-urlencode "@$t/raw.txt"
	same_as_curl /p --json '{"a":1}'
	same_as_curl /p --json "@$t/doc.json"
	same_as_curl /p --json '[1,' --json '"x"]'
	same_as_curl /p --json '{"a":1}' -H 'Accept: text/plain' -H 'Content-Type: application/x-ndjson'
	same_as_curl '/g?x=1' -G -d a=1 -d b=2
	same_as_curl /g -G --data-urlencode 'q=a b'
	same_as_curl /p -X PATCH -d a=1
	same_as_curl /p -X DELETE
	same_as_curl /p -X OPTIONS -H 'Origin: http://x'
	IN=$t/form.txt same_as_curl /p -d @-
	IN=$t/form.txt same_as_curl /p --data-binary @-

	# --json=TEXT is always a body; a word that does not start as JSON
	# does not take --json's place as one; bare --json before a URL is
	# the report.
	run -0 get --json='"s"' "$u/p"
	[[ $(field method) == POST && $(field body) == '"s"' ]] || fail "$output"
	run -0 get --json '[1,' --json='2]' "$u/p"
	[[ $(field body) == '[1,2]' ]] || fail "$output"
	run -0 get --json "$u/p"
	assert_output --partial '"status":200'
	assert_output --partial '"exit":0'
}

@test "-F: multipart/form-data as curl's, file parts read as they are sent" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	printf 'line 1\nline 2\n' >"$t/a.txt"
	head -c 70000 /dev/urandom >"$t/b.bin"
	printf 'v;1' >"$t/v.txt"
	same_as_curl /f -F a=1 -F 'b=two words'
	same_as_curl /f -F "up=@$t/a.txt"
	same_as_curl /f -F "up=@$t/a.txt;type=text/x-log" -F 'n=1;type=text/csv'
	same_as_curl /f -F "up=@$t/a.txt;filename=x\"y.txt" -F "v=<$t/v.txt"
	same_as_curl /f -F "bin=@$t/b.bin" -F "t=@$t/a.txt" -F z=9
	# The binary part arrives whole: length and digest of the body match.
	run -0 get -F "bin=@$t/b.bin" "$u/f"
	[[ $(field body_len) -gt 70000 ]]
}

@test "-T FILE, -T URL/, -T -: PUT as curl's; 303 and a POST's 301/302 turn to GET, 307/308 keep the body" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	printf 'uploaded\n' >"$t/up load.txt"
	same_as_curl /dir/name -T "$t/up load.txt"
	same_as_curl /dir/ -T "$t/up load.txt"
	IN="$t/up load.txt" same_as_curl /in -T -
	mkfifo "$t/fifo"
	(printf 'through a fifo' >"$t/fifo") &
	run -0 get -T "$t/fifo" "$u/ff"
	[[ $(field body) == 'through a fifo' && $(field method) == PUT ]] || fail "$output"
	assert_output --partial '"Transfer-Encoding", "chunked"'

	local code
	for code in 301 302 303 307 308; do
		same_as_curl "/redirect/$code?to=/next" -L -d a=1
		same_as_curl "/redirect/$code?to=/next" -L -T "$t/up load.txt"
		same_as_curl "/redirect/$code?to=/next" -L -X POST -d a=1
	done
	same_as_curl '/redirect/303?to=/next' -L -X DELETE
	# A redirect that keeps a body read from stdin cannot send it again:
	# curl's 65.
	run -65 get -L -T - "$u/redirect/307?to=/next" <"$t/up load.txt"
	assert_output --partial 'cannot be sent again'
	run -0 get -L -T - "$u/redirect/303?to=/next" <"$t/up load.txt"
	[[ $(field method) == GET ]]
}

@test "-u, -A, -e, -b: the headers curl sends; -H wins; credentials stay with their origin" {
	echo_bg
	same_as_curl /h -u 'al:p w:x' -A 'agent/1' -e 'http://ref/' -b 'k=v; k2=v2'
	same_as_curl /h -A 'agent/1' -H 'User-Agent: mine'
	same_as_curl /h -u al:pw -H 'Authorization: Bearer t'
	same_as_curl /h -A ''
	same_as_curl /h -b 'a=1' -H 'Cookie: b=2'
	# The peer's other address is another origin: no Authorization,
	# no Cookie there (curl drops both too).
	run -0 get -L -u al:pw -b k=v "$u/redirect/302?to=http://localhost:$port/x"
	refute_output --partial 'Authorization'
	refute_output --partial 'Cookie'
	run -0 get -L -u al:pw "$u/redirect/302?to=/same"
	assert_output --partial '"Authorization", "Basic YWw6cHc="'
}

@test "-T of 256 MiB keeps memory flat (sendfile from the file); http serve --upload stores it whole" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	truncate -s 256M "$t/big"
	printf 'tail' | dd of="$t/big" bs=1 seek=$((256 * 1024 * 1024 - 4)) conv=notrunc 2>/dev/null
	local sum
	sum=$(sha256sum <"$t/big" | cut -d' ' -f1)
	# The child's peak resident size, from wait4 (KiB).
	run -0 "$PY" -c '
import os, resource, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, st, ru = os.wait4(pid, 0)
print(ru.ru_maxrss, os.waitstatus_to_exitcode(st))' timeout "$T" "$SOCKCTL" http get -o "$t/reply" -T "$t/big" "$u/sink"
	read -r rss rc <<<"$output"
	((rc == 0)) || fail "exit $rc"
	((rss < 32 * 1024)) || fail "peak RSS $rss KiB"
	run field body_len <<<""
	output=$(cat "$t/reply")
	[[ $(field body_len) == 268435456 && $(field body_sha256) == "$sum" ]] || fail "$output"

	# http serve --upload stores it; the copy is the file.
	mkdir -p "$t/srv"
	start_bg srv "$SOCKCTL" http serve --upload --max-upload 300M -d "$t/srv" 127.0.0.1 0
	wait_ready srv
	run -0 get -o /dev/null -T "$t/big" "http://127.0.0.1:$port/"
	cmp "$t/big" "$t/srv/big"
}

@test "http get -X, -d, -F, -T, -u, -b: bad input is one line with curl's exit code" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	run -26 get -d @/nonexistent "$u/"
	assert_output --partial '--data /nonexistent: No such file'
	run -26 get --json @/nonexistent "$u/"
	run -26 get --data-binary @/nonexistent "$u/"
	run -26 get --data-urlencode n@/nonexistent "$u/"
	run -26 get -F f=@/nonexistent "$u/"
	run -26 get -F f=@/ "$u/"
	run -26 get -T /nonexistent "$u/"
	assert_output 'sockctl: -T /nonexistent: No such file or directory'
	run -2 get -d a -T /dev/null "$u/"
	run -2 get -d a -F a=b "$u/"
	run -2 get -I -d a "$u/"
	run -2 get -G -F a=b "$u/"
	run -2 get -T - "$u/a" "$u/b"
	run -2 get -X 'PO ST' "$u/"
	run -2 get -u nocolon "$u/"
	run -2 get -b cookies.txt "$u/"
	assert_output --partial 'cookie files are not read'
	run -2 get -F novalue "$u/"
	run -2 get -A $'a\nb' "$u/"
	# None of them reached the peer.
	run -0 get -X GET "$u/last"
	[[ $(field target) == /last ]]
}
