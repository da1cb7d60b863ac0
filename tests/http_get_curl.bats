#!/usr/bin/env bats
# sockctl http get where scripts use curl: methods and bodies (-X, -d,
# --data-*, --json, -F, -T, -G), credentials and request headers (-u, -A,
# -e, -b), redirects. Each request is sent by curl and by http get to a
# peer that answers with what it received (tests/http_echo_peer.py), and
# the two are compared; http serve takes an upload. -w, -D, -s and -S
# print what curl prints for the same responses from nginx, python3's
# http.server and http serve.
# sockctl: per-backend
load helpers
load http_get_lib

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
	run -2 get -b $'a=1\r\nX: y' "$u/"
	run -26 get -b / "$u/"
	run -2 get -F novalue "$u/"
	run -2 get -A $'a\nb' "$u/"
	# None of them reached the peer.
	run -0 get -X GET "$u/last"
	[[ $(field target) == /last ]]
}

# Every -w variable but the times, the local port and the error text,
# which differ between any two runs or programs; escapes, %%, unknown
# syntax, %{stderr}.
WF='%{http_code} %{response_code} %{size_download} %{size_upload} %{size_header} %{size_request} %{url_effective} %{url} %{num_redirects} %{num_connects} [%{content_type}] %{remote_ip} %{remote_port} %{local_ip} %{method} %{http_version} %{scheme} [%{redirect_url}] %{exitcode} %header{content-length} %header{Last-Modified} [%header{nosuch}] %{filename_effective} 100%% %q \t\\x\r %{stderr}to stderr %{http_code}%{stdout}|\n'
TF='%{time_namelookup} %{time_connect} %{time_appconnect} %{time_pretransfer} %{time_starttransfer} %{time_total} %{speed_download}\n'

# same_w ARGS...: curl -s and http get print the same -w text (stdout and
# stderr) and exit with the same status; the times are numbers with six
# decimals, in order.
same_w() {
	local t=$BATS_TEST_TMPDIR cs gs
	timeout "$T" curl -s -A probe "$@" -w "$WF" >"$t/c.out" 2>"$t/c.err" && cs=0 || cs=$?
	get -s -A probe "$@" -w "$WF" >"$t/g.out" 2>"$t/g.err" && gs=0 || gs=$?
	[[ $cs == "$gs" ]] || fail "exit: curl $cs, http get $gs for $*"
	# -I prints the head: its Date may be a second apart between the two.
	sed -i 's/^\(Date: \).*/\1(now)\r/' "$t/c.out" "$t/g.out"
	diff -u "$t/c.out" "$t/g.out" || fail "-w stdout differs for $*"
	diff -u "$t/c.err" "$t/g.err" || fail "-w stderr differs for $*"
	run -$gs get -s "$@" -o /dev/null -w "$TF"
	"$PY" - "$output" "$gs" <<-'PY' || fail "times: $output"
		import re, sys
		for line in sys.argv[1].split("\n"):
		    f = line.split()
		    assert len(f) == 7 and all(re.fullmatch(r"[0-9]+\.[0-9]{6}", x) for x in f[:6]), line
		    n, c, a, p, s, t = (float(x) for x in f[:6])
		    # A phase not reached is 0, as with curl.
		    if sys.argv[2] == "0":
		        assert n <= c <= p <= s <= t and a == 0.0, line
		    assert max(n, c, p, s) <= t and f[6].isdigit(), line
	PY
}

@test "-w: curl's output byte for byte on nginx, python http.server and http serve; times as numbers" {
	local www=$BATS_TEST_TMPDIR/www t=$BATS_TEST_TMPDIR
	mkdir -p "$www/sub"
	printf 'hello\n' >"$www/f.txt"
	head -c 200000 /dev/urandom >"$www/big.bin"
	printf 'sub\n' >"$www/sub/index.html"
	nginx_bg "$www"
	local n=http://127.0.0.1:$port
	same_w -o /dev/null "$n/f.txt"
	same_w -o "$t/big" "$n/big.bin"
	same_w "$n/f.txt"
	same_w -o /dev/null "$n/missing"
	same_w -o /dev/null "$n/sub"
	same_w -o /dev/null -L "$n/sub"
	same_w -I "$n/f.txt"
	same_w "$n/f.txt" "$n/sub/" "$n/missing"
	same_w -o /dev/null -f "$n/missing"
	same_w -o /dev/null "http://127.0.0.1:$(unused_port)/"

	pyhttp_bg "$www"
	same_w -o /dev/null "http://127.0.0.1:$port/f.txt"
	same_w -o /dev/null -L "http://127.0.0.1:$port/sub"

	start_bg srv "$SOCKCTL" http serve -d "$www" 127.0.0.1 0
	wait_ready srv
	same_w -o /dev/null "http://127.0.0.1:$port/big.bin"
	same_w -o /dev/null --range 0-9 "http://127.0.0.1:$port/big.bin"

	# @FILE holds the format; an unknown variable is one warning line.
	printf '%%{http_code}|%%{nosuch}\n' >"$t/fmt"
	run -0 --separate-stderr get -o /dev/null -w "@$t/fmt" "http://127.0.0.1:$port/f.txt"
	assert_output '200|'
	[[ $stderr == "sockctl: unknown --write-out variable: 'nosuch'" ]] || fail "$stderr"
	run -0 get -o /dev/null -w '%{onerror}not printed' "http://127.0.0.1:$port/f.txt"
	assert_output ''
	run -0 --separate-stderr get -o /dev/null -w '%{header_json}' "http://127.0.0.1:$port/f.txt"
	"$PY" -c 'import json,sys; h=json.loads(sys.argv[1]); assert h["content-length"] == ["6"], h' "$output"
	run -26 get -w @/nonexistent "http://127.0.0.1:$port/"
}

@test "-D FILE and -D - write every response's headers as curl does; -s, -S" {
	local www=$BATS_TEST_TMPDIR/www t=$BATS_TEST_TMPDIR
	mkdir -p "$www/sub"
	printf 'hello\n' >"$www/f.txt"
	printf 'sub\n' >"$www/sub/index.html"
	nginx_bg "$www"
	local n=http://127.0.0.1:$port
	# Date may tick between the two requests.
	undate() { sed -E 's/^Date: .*/Date: D/' "$@"; }
	timeout "$T" curl -s -L -D "$t/c.h" -o "$t/c.b" "$n/sub"
	get -L -D "$t/g.h" -o "$t/g.b" "$n/sub"
	diff -u <(undate "$t/c.h") <(undate "$t/g.h")
	cmp "$t/c.b" "$t/g.b"
	grep -c '^HTTP/1.1 ' "$t/g.h" | grep -qx 2
	timeout "$T" curl -s -L -D - "$n/sub" "$n/f.txt" >"$t/c.out"
	get -L -D - "$n/sub" "$n/f.txt" >"$t/g.out"
	diff -u <(undate "$t/c.out") <(undate "$t/g.out")
	run -23 get -D /nonexistent/h "$n/f.txt"
	assert_output --partial 'open /nonexistent/h'

	local dead=http://127.0.0.1:$(unused_port)/
	run -7 --separate-stderr get -s "$dead"
	[[ -z $stderr && -z $output ]] || fail "-s printed: $stderr"
	run -7 --separate-stderr get -s -S "$dead"
	[[ $stderr == *'Connection refused'* ]] || fail "-sS: $stderr"
	run -0 --separate-stderr get -s "$n/f.txt"
	assert_output 'hello'
}

@test "--unix-socket, --resolve, --connect-to: the connection goes elsewhere, Host stays; -4/-6" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	command -v socat >/dev/null || skip "socat is not installed"
	start_bg socat socat "UNIX-LISTEN:$t/s.sock,fork" "TCP:127.0.0.1:$port"
	local i
	for ((i = 0; i < 500; i++)); do [[ -S $t/s.sock ]] && break; sleep 0.01; done
	same_as_curl /u --unix-socket "$t/s.sock"
	local saved=$u
	u=http://name.test
	same_as_curl /u --unix-socket "$t/s.sock" -d a=1
	same_as_curl /r --resolve "name.test:80:127.0.0.1" --connect-to "::127.0.0.1:$port"
	u=http://name.test:$port
	same_as_curl /r --resolve "name.test:$port:127.0.0.1"
	same_as_curl /r --resolve "NAME.test:$port:[::ffff:127.0.0.1]"
	u=http://other.test:81
	same_as_curl /c --connect-to "other.test:81:127.0.0.1:$port"
	same_as_curl /c --connect-to ":81:127.0.0.1:$port"
	u=$saved
	run -0 get -o /dev/null -w '%{remote_ip}:%{remote_port}' --connect-to "::127.0.0.1:$port" \
		"http://elsewhere.test:9/"
	assert_output "127.0.0.1:$port"
	# A route for another host or port is not taken: the name does not
	# resolve (-n: no lookups), curl's 6.
	run -6 get -n --resolve "name.test:81:127.0.0.1" "http://name.test:$port/"
	run -6 get -4 -n --connect-to "a.test::127.0.0.1:$port" "http://b.test:$port/"
	# -6 and an IPv4 address: nothing to connect to, curl's 6 too.
	run -6 get -6 --resolve "name.test:$port:127.0.0.1" "http://name.test:$port/"
	run -6 timeout "$T" curl -s -6 --resolve "name.test:$port:127.0.0.1" "http://name.test:$port/"
}

@test "--retry: a server that fails twice then answers; Retry-After, --retry-delay, --retry-max-time" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	# 503 with Retry-After: 0 twice, then the echo: only its body comes out.
	run -0 --separate-stderr get --retry 3 "$u/flaky/a?after=0"
	[[ $(field target) == "/flaky/a?after=0" ]] || fail "$output"
	[[ ${#stderr_lines[@]} == 2 && $stderr == *'HTTP 503: retrying in 0.000 s, 2 retries left'* ]] ||
		fail "$stderr"
	run -0 get "$u/count/a"
	assert_output 3
	# curl tries as often, for the same statuses.
	run -0 timeout "$T" curl -s --retry 3 -o "$t/c" "$u/flaky/curl?after=0&code=429"
	run -0 get "$u/count/curl"
	assert_output 3
	run -0 get -s --retry 3 -o /dev/null "$u/flaky/b?after=0&code=429"
	run -0 get "$u/count/b"
	assert_output 3
	# Out of tries: the last answer stands (and --fail makes it 22);
	# the file holds only its body.
	run -22 get -s --retry 1 --retry-delay 0.05 -f "$u/flaky/c?fail=5&code=500"
	run -0 get -s --retry 1 --retry-delay 0.05 -o "$t/out" "$u/flaky/d?fail=5&code=502"
	assert_equal "$(cat "$t/out")" failing
	run -0 get "$u/count/d"
	assert_output 2
	# 404 is no reason to try again; --retry-all-errors with --fail is.
	run -0 get --retry 3 -o /dev/null "$u/flaky/e?code=404"
	run -0 get "$u/count/e"
	assert_output 1
	run -0 get -s --retry 3 --retry-delay 0 --retry-all-errors -f -o /dev/null "$u/flaky/f?code=404"
	run -0 get "$u/count/f"
	assert_output 3
	# --retry-max-time: a 10 s Retry-After does not fit in 1 s.
	SECONDS=0
	run -0 get -s --retry 3 --retry-max-time 1 -o /dev/null "$u/flaky/g?after=10"
	((SECONDS < 8)) || fail "waited $SECONDS s"
	run -0 get "$u/count/g"
	assert_output 1
	# Refused connections: only with --retry-connrefused, as curl.
	local dead=http://127.0.0.1:$(unused_port)/
	run -7 --separate-stderr get --retry 2 --retry-delay 0 "$dead"
	((${#stderr_lines[@]} == 1)) || fail "$stderr"
	run -7 --separate-stderr get --retry 2 --retry-delay 0 --retry-connrefused "$dead"
	((${#stderr_lines[@]} == 3)) || fail "$stderr"
}

@test "-C - resumes from the -o file's size as curl does (206, 416 on a whole file, 33 without ranges); -O" {
	local www=$BATS_TEST_TMPDIR/www t=$BATS_TEST_TMPDIR
	mkdir -p "$www"
	head -c 300000 /dev/urandom >"$www/file.bin"
	nginx_bg "$www"
	local n=http://127.0.0.1:$port
	head -c 123456 "$www/file.bin" >"$t/part"
	run -0 get -w '%{http_code}' -C - -o "$t/part" "$n/file.bin"
	assert_output 206
	cmp "$www/file.bin" "$t/part"
	# Whole already: a 416, taken as done, the file untouched.
	run -0 get -w '%{http_code}' -C - -o "$t/part" "$n/file.bin"
	assert_output 416
	cmp "$www/file.bin" "$t/part"
	head -c 100 "$www/file.bin" >"$t/p2"
	run -0 get -C 100 -o "$t/p2" "$n/file.bin"
	cmp "$www/file.bin" "$t/p2"
	# -O: the URL's file name, in the current directory.
	(cd "$t" && timeout "$T" "$SOCKCTL" http get -O "$n/file.bin?x=1") || fail "-O"
	cmp "$www/file.bin" "$t/file.bin"
	rm "$t/file.bin"
	head -c 1000 "$www/file.bin" >"$t/file.bin"
	(cd "$t" && timeout "$T" "$SOCKCTL" http get -C - -O "$n/file.bin") || fail "-C - -O"
	cmp "$www/file.bin" "$t/file.bin"

	# python's http.server sends the whole file again: curl's 33.
	pyhttp_bg "$www"
	head -c 10 "$www/file.bin" >"$t/p3"
	run -33 get -C - -o "$t/p3" "http://127.0.0.1:$port/file.bin"
	assert_output --partial 'cannot resume'
	run -33 timeout "$T" curl -s -C - -o "$t/p3" "http://127.0.0.1:$port/file.bin"
}

@test "-C - with --retry: a try that stalls mid-body is cut back, the next one resumes where the file began" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	"$PY" -c 'import sys; sys.stdout.buffer.write(b"".join(b"line %d of the text, compressible and not all alike\n" % i for i in range(2501))[:100000])' >"$t/want"
	head -c 1000 "$t/want" >"$t/got"
	run -0 get --retry 2 --retry-delay 0 --idle-timeout 1 -C - -o "$t/got" "$u/resume/k1?n=100000&stall=5000"
	cmp "$t/want" "$t/got"
}

@test "--compressed: gzip, deflate (zlib or raw), br decoded as curl decodes them; memory flat on a bomb" {
	echo_bg
	local t=$BATS_TEST_TMPDIR e
	"$SOCKCTL" http get --help | grep -q -- --compressed || skip "no --compressed in this build"
	for e in gzip deflate rawdeflate br; do
		get --compressed "$u/enc/$e?n=500000" "$u/enc/$e?n=7" >"$t/g"
		timeout "$T" curl -s --compressed "$u/enc/$e?n=500000" "$u/enc/$e?n=7" >"$t/c"
		cmp "$t/c" "$t/g" || fail "$e differs from curl"
		timeout "$T" curl -s "$u/plain?n=500000" "$u/plain?n=7" | cmp - "$t/g"
	done
	# Without --compressed nothing is asked for or decoded.
	run -0 get "$u/h"
	refute_output --partial 'Accept-Encoding'
	get "$u/enc/gzip?n=1000" | gzip -dc | cmp - <(timeout "$T" curl -s "$u/plain?n=1000")
	run -0 get --compressed "$u/h"
	assert_output --partial '["Accept-Encoding", "deflate, gzip'
	run -0 get --compressed -H 'Accept-Encoding: gzip' "$u/h"
	assert_output --partial '["Accept-Encoding", "gzip"]'
	# An unknown coding, a body that is not what it says: curl's 61.
	run -61 get --compressed "$u/enc/bogus"
	assert_output --partial "unknown Content-Encoding 'bogus'"
	run -61 timeout "$T" curl -s --compressed "$u/enc/bogus"
	run -61 get --compressed -o /dev/null "$u/enc/fakegzip"
	# Whole as HTTP (Content-Length), cut short as gzip: not a success.
	run -61 get --compressed -o /dev/null "$u/enc/gzip?n=100000&cut=200"
	assert_output --partial "ends before the compressed stream does"
	assert_output --partial 'cannot decode the body'
	run -61 timeout "$T" curl -s --compressed -o /dev/null "$u/enc/fakegzip"
	# 256 MiB of zeros in 256 KiB of gzip: decoded as fast as written,
	# never held.
	run -0 "$PY" -c '
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, st, ru = os.wait4(pid, 0)
print(ru.ru_maxrss, os.waitstatus_to_exitcode(st))' timeout "$T" "$SOCKCTL" http get --compressed \
		-o "$t/zeros" "$u/enc/gzip?zeros=268435456"
	read -r rss rc <<<"$output"
	((rc == 0)) || fail "exit $rc"
	((rss < 32 * 1024)) || fail "peak RSS $rss KiB"
	[[ $(stat -c %s "$t/zeros") == 268435456 ]]

	# nginx's own gzip.
	local www=$t/www
	mkdir -p "$www"
	timeout "$T" curl -s "$u/plain?n=200000" >"$www/t.txt"
	cat >"$t/gzip.conf" <<-'CONF'
		gzip on; gzip_types text/plain; gzip_min_length 0;
	CONF
	NGINX_EXTRA="include $t/gzip.conf;" nginx_bg "$www"
	run -0 get --compressed -D "$t/h" -o "$t/n.txt" "http://127.0.0.1:$port/t.txt"
	grep -qi '^Content-Encoding: gzip' "$t/h" || fail "nginx did not compress: $(cat "$t/h")"
	cmp "$www/t.txt" "$t/n.txt"
}

@test "--limit-rate paces downloads and uploads (k, M, G as curl's)" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	# 400,000 bytes at 200 KiB/s: about 1.9 s, never under 1.5 (the
	# first tenth of a second's worth goes at once); the body whole.
	local start=$EPOCHREALTIME
	run -0 get --limit-rate 200k -o "$t/b" -w '%{size_download}' "$u/plain?n=400000"
	assert_output 400000
	"$PY" -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert d >= 1.5, d' \
		"$start" "$EPOCHREALTIME"
	timeout "$T" curl -s "$u/plain?n=400000" | cmp - "$t/b"
	head -c 300000 /dev/zero >"$t/z"
	start=$EPOCHREALTIME
	run -0 get --limit-rate 200K -T "$t/z" -o /dev/null -w '%{size_upload}' "$u/sink"
	assert_output 300000
	"$PY" -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert d >= 1.0, d' \
		"$start" "$EPOCHREALTIME"
	# The same from stdin (-T -, chunked): paced too.
	start=$EPOCHREALTIME
	run -0 bash -c "cat '$t/z' | timeout $T '$SOCKCTL' http get --limit-rate 200K -T - -o /dev/null \
		-w '%{size_upload}' '$u/sink'"
	assert_output 300000
	"$PY" -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert d >= 1.0, d' \
		"$start" "$EPOCHREALTIME"
	# A high rate is no limit to notice.
	run -0 get --limit-rate 1G -o /dev/null -w '%{size_download}' "$u/plain?n=400000"
	assert_output 400000
}

# on_tty FILE|- ARGS...: http get with stderr on a terminal; $output is
# what the terminal got (a Python bytes literal).
on_tty() {
	local out=$1
	shift
	run timeout "$T" "$PY" "$BATS_TEST_DIRNAME/pty_run.py" "$out" "$SOCKCTL" http get "$@"
}

@test "the progress bar: on a terminal for big downloads (percent, size, rate, ETA); not with -s, --no-progress, small bodies, no terminal" {
	echo_bg
	local t=$BATS_TEST_TMPDIR big="$u/plain?n=1500000"
	timeout "$T" curl -s "$big" >"$t/want"
	on_tty "$t/got" --limit-rate 1M "$big"
	assert_success
	cmp "$t/want" "$t/got"
	assert_output --regexp '\\r *[0-9.]+%  [0-9.]+ KiB of 1\.43 MiB  [0-9.]+ [KM]iB/s  ETA 0:0[0-9]'
	assert_output --partial '100.0%  1.43 MiB of 1.43 MiB'
	[[ $output == *'\r\n'\' ]] || fail "the last line is not kept: $output"
	on_tty "$t/got" -s "$big"
	assert_output "b''"
	on_tty "$t/got" --no-progress "$big"
	assert_output "b''"
	on_tty "$t/got" "$u/plain?n=1000"
	assert_output "b''"
	on_tty "$t/got" -# "$u/plain?n=1000"
	assert_output --partial '100.0%  1000 B of 1000 B'
	# The body on that terminal too: no bar in the middle of it.
	on_tty - "$u/plain?n=300000"
	refute_output --partial 'ETA'
	# stderr not a terminal: nothing but errors there.
	run -0 --separate-stderr get -o "$t/got" "$big"
	[[ -z $stderr ]] || fail "stderr: $stderr"
}

@test "small POSTs on one connection do not wait for ACKs (head and body in one segment, no Nagle)" {
	echo_bg
	local list=() i
	for ((i = 0; i < 200; i++)); do list+=("$u/p$i"); done
	# Sent as two segments with Nagle's algorithm on, each request waits
	# for the peer's delayed ACK (about 40 ms): 8 s or more for 200. One
	# write each with TCP_NODELAY: well under a second; 4 s is a bound a
	# busy machine keeps.
	local start=$EPOCHREALTIME
	run -0 get --json '{"n":1}' -o /dev/null "${list[@]}"
	"$PY" -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert d < 4, d' \
		"$start" "$EPOCHREALTIME" || fail "200 POSTs took too long"
	run -0 get --json '{"n":1}' "$u/last"
	[[ $(field body) == '{"n":1}' ]]
}

@test "-Z: URLs at once, output in their order, keep-alive per slot, the last failure in order" {
	echo_bg
	local t=$BATS_TEST_TMPDIR list=() i
	for ((i = 1; i <= 10; i++)); do list+=("$u/sleep/300?i=$i"); done
	# Ten answers of 300 ms each: 3 s one after another, about 0.3 s at
	# once; 2 s is a bound a busy machine keeps.
	local start=$EPOCHREALTIME
	run -0 get -Z -w '%{url}\n' "${list[@]}"
	"$PY" -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert d < 2, d' \
		"$start" "$EPOCHREALTIME" || fail "not at once"
	"$PY" - "$u" "$output" <<-'PY' || fail "not in order: $output"
		import json, sys
		u, lines = sys.argv[1], sys.argv[2].split("\n")
		for i in range(10):
		    body, url = lines[2 * i], lines[2 * i + 1]
		    assert json.loads(body)["target"] == "/sleep/300?i=%d" % (i + 1), body
		    assert url == u + "/sleep/300?i=%d" % (i + 1), url
	PY
	# --parallel-max 3: four rounds.
	start=$EPOCHREALTIME
	run -0 get -Z --parallel-max 3 -o "$t/all" "${list[@]}"
	"$PY" -c 'import sys; d = float(sys.argv[2]) - float(sys.argv[1]); assert d >= 1.1, d' \
		"$start" "$EPOCHREALTIME" || fail "more than 3 at once"
	[[ $(grep -c '"method"' "$t/all") == 10 ]]

	# The exit status is the last failure in the URLs' order, as one
	# after another; a failure's output is its own.
	local dead=http://127.0.0.1:$(unused_port)/
	run -7 get -s -f -Z "$u/status/404" "$dead" "$u/sleep/200" -o /dev/null
	run -22 get -s -f -Z "$dead" "$u/sleep/200" "$u/status/500" -o /dev/null

	local www=$t/www
	mkdir -p "$www"
	for ((i = 0; i < 40; i++)); do printf 'file %d\n' "$i" >"$www/f$i.txt"; done
	nginx_bg "$www"
	list=()
	for ((i = 0; i < 40; i++)); do list+=("http://127.0.0.1:$port/f$i.txt"); done
	run -0 get -Z --parallel-max 2 "${list[@]}"
	assert_output "$(for ((i = 0; i < 40; i++)); do printf 'file %d\n' "$i"; done)"
	wait_file_contains "$t/nginx-access.log" 'GET /f39.txt'
	local conns
	conns=$(awk '{ print $1 }' "$t/nginx-access.log" | sort -u | wc -l)
	((conns <= 2)) || fail "$conns connections for two slots"
}

@test "-Z: many URLs done behind a slow first one fit a low ulimit -n, output in order" {
	echo_bg
	# The first answers only once the 150 after it have been answered:
	# all of them finish ahead of their turn and wait.
	local list=("$u/after/150?i=0") i
	for ((i = 1; i <= 150; i++)); do list+=("$u/fast?i=$i"); done
	# 64 descriptors: three slots' connections and files and the spool
	# fit; a file held open for each URL done ahead does not.
	run -0 bash -c 'ulimit -n 64 && exec timeout "$0" "$1" http get -Z --parallel-max 3 -w "%{url}\n" "${@:2}"' \
		"$T" "$SOCKCTL" "${list[@]}"
	"$PY" - "$u" "$output" <<-'PY' || fail "not in order: $output"
		import json, sys
		u, lines = sys.argv[1], sys.argv[2].split("\n")
		assert len(lines) == 2 * 151, len(lines)
		for i in range(151):
		    path = ("/after/150?i=%d" if i == 0 else "/fast?i=%d") % i
		    body, url = lines[2 * i], lines[2 * i + 1]
		    assert json.loads(body)["target"] == path, body
		    assert url == u + path, url
	PY
	# Into -o FILE the same.
	run -0 bash -c 'ulimit -n 64 && exec timeout "$0" "$1" http get -Z --parallel-max 3 -o "$2" "${@:3}"' \
		"$T" "$SOCKCTL" "$BATS_TEST_TMPDIR/all" "${list[@]}"
	"$PY" - "$BATS_TEST_TMPDIR/all" <<-'PY' || fail "-o: not in order"
		import json, sys
		lines = open(sys.argv[1]).read().splitlines()
		assert len(lines) == 151, len(lines)
		for i, l in enumerate(lines):
		    assert json.loads(l)["target"] == ("/after/150?i=%d" if i == 0 else "/fast?i=%d") % i, l
	PY
}

@test "https: -T over TLS takes the copy path (a TLS stream has no sendfile), memory flat" {
	"$SOCKCTL" http get --help | grep -q -- --cacert || skip "no TLS in this build"
	local t=$BATS_TEST_TMPDIR
	mkdir -p "$t/srv"
	head -c 3000000 /dev/urandom >"$t/up.bin"
	start_bg srv "$SOCKCTL" http serve --tls --upload -d "$t/srv" 127.0.0.1 0
	wait_ready srv
	run -0 get -k -s -w '%{http_code} %{size_upload} %{scheme}' -o /dev/null -T "$t/up.bin" \
		"https://127.0.0.1:$port/"
	assert_output '201 3000000 HTTPS'
	cmp "$t/up.bin" "$t/srv/up.bin"
	# Peak memory stays flat on this path too.
	head -c 100000000 /dev/urandom >"$t/big.bin"
	run -0 "$PY" -c '
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, st, ru = os.wait4(pid, 0)
print(ru.ru_maxrss, os.waitstatus_to_exitcode(st))' timeout "$T" "$SOCKCTL" http get -k -o /dev/null \
		-T "$t/big.bin" "https://127.0.0.1:$port/"
	read -r rss rc <<<"$output"
	((rc == 0)) || fail "exit $rc"
	((rss < 32 * 1024)) || fail "peak RSS $rss KiB"
	cmp "$t/big.bin" "$t/srv/big.bin"
}

@test "-b FILE: a Netscape cookie file as curl reads it (domain, subdomains, path, secure, expiry, order)" {
	echo_bg
	local t=$BATS_TEST_TMPDIR
	printf '%s\n' '# Netscape HTTP Cookie File' \
		$'site.test\tFALSE\t/\tFALSE\t0\ta\t1' \
		$'.site.test\tTRUE\t/admin\tFALSE\t0\tadm\tyes' \
		$'#HttpOnly_site.test\tFALSE\t/\tFALSE\t0\thttponly\th' \
		$'site.test\tFALSE\t/\tTRUE\t0\tsec\ts' \
		$'site.test\tFALSE\t/\tFALSE\t1000\told\to' \
		$'other.test\tFALSE\t/\tFALSE\t0\tno\tn' \
		$'site.test\tFALSE\t/adminx\tFALSE\t0\tpathx\tp' \
		'a line that is no cookie' >"$t/jar"
	local saved=$u c=(--connect-to "::127.0.0.1:$port")
	u=http://site.test
	same_as_curl /admin/x -b "$t/jar" "${c[@]}"
	same_as_curl /admin -b "$t/jar" -b 'x=9' "${c[@]}"
	same_as_curl /other -b "$t/jar" -b 'x=9; y=8' "${c[@]}"
	u=http://www.site.test
	same_as_curl /admin/y -b "$t/jar" "${c[@]}"
	u=http://other.test
	same_as_curl / -b "$t/jar" "${c[@]}"
	# A file that is not there is no cookies, as with curl.
	same_as_curl / -b "$t/none" "${c[@]}"
	u=$saved
	# -H Cookie wins over both.
	run -0 get -b "$t/jar" -H 'Cookie: mine=1' "${c[@]}" http://site.test/
	assert_output --partial '["Cookie", "mine=1"]'
}
