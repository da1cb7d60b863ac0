#!/usr/bin/env bats
# http serve --auth / --auth-file / --realm: basic authentication on every
# request, checked with curl (right, wrong, missing, malformed), accounts
# from a file of crypt(3) hashes, and over --tls.
# sockctl: per-backend
load helpers
load http_serve_lib

setup() {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www/sub"
	printf 'hello\n' >"$www/a.txt"
}

# code ARGS...: curl's status code for the request.
code() {
	timeout "$T" curl -sS -o /dev/null -w '%{http_code}' "$@"
}

@test "--auth: right, wrong, missing, other scheme; 401 names the realm; every path" {
	hs srv -d "$www" --auth al:pw --auth 'bo:p:w' --realm 'My files'
	u=http://127.0.0.1:$port
	[ "$(code -u al:pw "$u/a.txt")" = 200 ]
	[ "$(code -u bo:p:w "$u/a.txt")" = 200 ]
	[ "$(code -u al:pw "$u/")" = 200 ]
	[ "$(code -u al:pw "$u/sub")" = 301 ]
	[ "$(code -u al:px "$u/a.txt")" = 401 ]
	[ "$(code -u al:pw2 "$u/a.txt")" = 401 ]
	[ "$(code -u bo:pw "$u/a.txt")" = 401 ]
	[ "$(code -u zed:pw "$u/a.txt")" = 401 ]
	[ "$(code "$u/a.txt")" = 401 ]
	[ "$(code "$u/nope")" = 401 ]
	[ "$(code "$u/sub")" = 401 ]
	[ "$(code -H 'Authorization: Bearer abc' "$u/a.txt")" = 401 ]
	run timeout "$T" curl -sS -i "$u/a.txt"
	assert_output --partial $'HTTP/1.1 401 Unauthorized\r'
	assert_output --partial $'WWW-Authenticate: Basic realm="My files", charset="UTF-8"\r'
	refute_output --partial 'hello'
	run timeout "$T" curl -sS -u al:pw "$u/a.txt"
	assert_output 'hello'
	# HEAD too, and keep-alive goes on after a 401
	run timeout "$T" curl -sS -o /dev/null -w '%{http_code} %{num_connects}\n' \
		"$u/a.txt" -u al:pw --next -o /dev/null -w '%{http_code} %{num_connects}\n' "$u/a.txt"
	assert_output $'200 1\n401 0'
}

@test "--auth: malformed base64 and other malformed credentials get 401, as nginx answers them" {
	hs srv -d "$www" --auth al:pw
	u=http://127.0.0.1:$port/a.txt
	for v in 'Basic !!!!' 'Basic YWw6cHc=x' 'Basic YWxwdw==' 'Basic' 'Basic YWw6cHd=' \
		'Basic YW w6cHc='; do
		run code -H "Authorization: $v" "$u"
		[ "$output" = 401 ] || fail "'$v' got $output"
	done
	# and the right one, without its padding as nginx takes it
	[ "$(code -H 'Authorization: Basic YWw6cHc' "$u")" = 200 ]
	[ "$(code -H 'Authorization: basic YWw6cHc=' "$u")" = 200 ]
	grep -q '"GET /a.txt HTTP/1.1" 401' "$BATS_TEST_TMPDIR/srv.out"
}

@test "--auth: the access log names the account a request was let in as" {
	hs srv -d "$www" --auth al:pw --auth 'x"y:pw'
	u=http://127.0.0.1:$port/a.txt
	code -u al:pw "$u" >/dev/null
	code -u al:bad "$u" >/dev/null
	code -u 'x"y:pw' "$u" >/dev/null
	wait_file_contains "$BATS_TEST_TMPDIR/srv.out" 'x\x22y'
	run cat "$BATS_TEST_TMPDIR/srv.out"
	assert_line --regexp '^127\.0\.0\.1 - al \[.*"GET /a\.txt HTTP/1\.1" 200 6 '
	assert_line --regexp '^127\.0\.0\.1 - - \[.*"GET /a\.txt HTTP/1\.1" 401 '
	assert_line --regexp '^127\.0\.0\.1 - x\\x22y \[.*" 200 6 '
	hs js -d "$www" --auth al:pw --log-format=json
	code -u al:pw "http://127.0.0.1:$port/a.txt" >/dev/null
	code "http://127.0.0.1:$port/a.txt" >/dev/null
	wait_file_contains "$BATS_TEST_TMPDIR/js.out" '"status":401'
	run "$PY" -c 'import json, sys
for l in open(sys.argv[1]): d = json.loads(l); print(d["status"], repr(d["user"]))' \
		"$BATS_TEST_TMPDIR/js.out"
	assert_output $'200 \'al\'\n401 \'\''
}

@test "--auth-file: sha512crypt, yescrypt and bcrypt hashes, comments, beside --auth" {
	f=$BATS_TEST_TMPDIR/pw
	{
		echo '# accounts'
		echo
		echo "cy:$(openssl passwd -6 's3cret')"
		echo "di:$("$PY" -W ignore -c 'import crypt; print(crypt.crypt("yes pw", crypt.mksalt(crypt.METHOD_SHA256)))')"
		if "$PY" -W ignore -c 'import crypt,sys; sys.exit(0 if crypt.crypt("x","$y$j9T$abcdefghijklmnop$") else 1)' 2>/dev/null; then
			echo "ed:$("$PY" -W ignore -c 'import crypt; print(crypt.crypt("yesc", "$y$j9T$TFvZbvPs0TWvQX1YvzGwy."))')"
		fi
		echo "fi:$("$PY" -W ignore -c 'import crypt; print(crypt.crypt("bcr", "$2b$05$abcdefghijklmnopqrstuu"))')"
	} >"$f"
	hs srv -d "$www" --auth-file "$f" --auth al:pw
	u=http://127.0.0.1:$port/a.txt
	[ "$(code -u cy:s3cret "$u")" = 200 ]
	[ "$(code -u 'di:yes pw' "$u")" = 200 ]
	[ "$(code -u fi:bcr "$u")" = 200 ]
	if grep -q '^ed:' "$f"; then [ "$(code -u ed:yesc "$u")" = 200 ]; fi
	[ "$(code -u al:pw "$u")" = 200 ]
	[ "$(code -u cy:s3cre "$u")" = 401 ]
	[ "$(code -u fi:bcrx "$u")" = 401 ]
	[ "$(code -u cy:bcr "$u")" = 401 ]
	[ "$(code -u nobody:s3cret "$u")" = 401 ]
}

@test "--auth-file: a bad file is a start-up error naming its line; nothing listens" {
	f=$BATS_TEST_TMPDIR/pw
	printf '# ok\ncy:%s\nno-colon-here\n' "$(openssl passwd -6 x)" >"$f"
	run --separate-stderr timeout "$T" "$SOCKCTL" http serve -d "$www" --auth-file "$f" 0
	[ "$status" -eq 1 ]
	[ "$stderr" = "sockctl: http serve: --auth-file $f:3: want 'user:hash'" ]
	printf 'cy:plain password\n' >"$f"
	run --separate-stderr timeout "$T" "$SOCKCTL" http serve -d "$www" --auth-file "$f" 0
	[ "$status" -eq 1 ]
	[[ $stderr == *"$f:1: 'plain password' is not a crypt(3) hash this system can check" ]]
	printf '# nothing\n' >"$f"
	run --separate-stderr timeout "$T" "$SOCKCTL" http serve -d "$www" --auth-file "$f" 0
	[ "$status" -eq 1 ]
	[[ $stderr == *"$f: no accounts in it" ]]
	run --separate-stderr timeout "$T" "$SOCKCTL" http serve -d "$www" --auth-file "$f.missing" 0
	[ "$status" -eq 1 ]
	[[ $stderr == *"$f.missing: No such file or directory" ]]
}

@test "--auth with --tls, and with --respond and --upload" {
	need_tls
	hs srv -d "$www" --tls --auth al:pw
	u=https://127.0.0.1:$port/a.txt
	[ "$(code -k "$u")" = 401 ]
	[ "$(code -k -u al:pw "$u")" = 200 ]
	run timeout "$T" curl -sS -k -u al:pw "$u"
	assert_output 'hello'
	hs fix --respond --body 'fixed' --auth al:pw
	[ "$(code "http://127.0.0.1:$port/x")" = 401 ]
	run timeout "$T" curl -sS -u al:pw "http://127.0.0.1:$port/x"
	assert_output 'fixed'
	hs up -d "$www" --upload --auth al:pw
	printf 'up\n' >"$BATS_TEST_TMPDIR/up.txt"
	[ "$(code -T "$BATS_TEST_TMPDIR/up.txt" "http://127.0.0.1:$port/new.txt")" = 401 ]
	[ ! -e "$www/new.txt" ]
	[ "$(code -u al:pw -T "$BATS_TEST_TMPDIR/up.txt" "http://127.0.0.1:$port/new.txt")" = 201 ]
	cmp "$www/new.txt" "$BATS_TEST_TMPDIR/up.txt"
}
