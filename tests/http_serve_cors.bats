#!/usr/bin/env bats
# http serve --cors with curl: the Allow-Origin header on every answer
# (errors and 401s too), one named origin with Vary: Origin, OPTIONS
# preflights as a browser sends them answered 204 (without credentials,
# also under --auth), plain OPTIONS, and nothing of it without --cors.
# sockctl: per-backend
load helpers
load http_serve_lib

setup() {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www"
	printf 'hello\n' >"$www/a.txt"
}

# head ARGS...: the response head (CRs dropped) of curl ARGS.
head_of() {
	timeout "$T" curl -sS -o /dev/null -D - "$@" | tr -d '\r'
}

# preflight URL [EXTRA CURL ARGS]: OPTIONS as a browser sends it before a
# cross-origin GET with an Authorization and a custom header.
preflight() {
	local u=$1
	shift
	head_of -X OPTIONS -H 'Origin: https://app.example' \
		-H 'Access-Control-Request-Method: GET' \
		-H 'Access-Control-Request-Headers: authorization,x-requested-with' \
		-H 'Sec-Fetch-Mode: cors' -H 'Referer: https://app.example/page' "$@" "$u"
}

@test "--cors: Allow-Origin * on files, listings, errors; preflight 204 with methods, headers, max-age" {
	hs srv -d "$www" --cors
	u=http://127.0.0.1:$port
	run head_of -H 'Origin: https://app.example' "$u/a.txt"
	assert_line 'HTTP/1.1 200 OK'
	assert_line 'Access-Control-Allow-Origin: *'
	refute_line 'Vary: Origin'
	run head_of "$u/"
	assert_line 'Access-Control-Allow-Origin: *'
	run head_of "$u/nope"
	assert_line 'HTTP/1.1 404 Not Found'
	assert_line 'Access-Control-Allow-Origin: *'
	run preflight "$u/a.txt"
	assert_line 'HTTP/1.1 204 No Content'
	assert_line 'Access-Control-Allow-Origin: *'
	assert_line 'Access-Control-Allow-Methods: GET, HEAD, OPTIONS'
	assert_line 'Access-Control-Allow-Headers: authorization,x-requested-with'
	assert_line 'Access-Control-Max-Age: 86400'
	refute_line --partial 'Content-Length'
	# a preflight for a path that is not there is still answered: it asks
	# about the method, not the resource
	run preflight "$u/not/there"
	assert_line 'HTTP/1.1 204 No Content'
	# OPTIONS that is no preflight: Allow
	run head_of -X OPTIONS "$u/a.txt"
	assert_line 'HTTP/1.1 204 No Content'
	assert_line 'Allow: GET, HEAD, OPTIONS'
	refute_line --partial 'Access-Control-Allow-Methods'
	# headers that are not a list of names are not echoed
	run head_of -X OPTIONS -H 'Origin: https://app.example' \
		-H 'Access-Control-Request-Method: GET' \
		-H 'Access-Control-Request-Headers: x-a, "quoted"' "$u/a.txt"
	assert_line 'HTTP/1.1 204 No Content'
	refute_line --partial 'Access-Control-Allow-Headers'
	# other methods still 405, and say OPTIONS is allowed
	run head_of -X DELETE "$u/a.txt"
	assert_line 'HTTP/1.1 405 Method Not Allowed'
	assert_line 'Allow: GET, HEAD, OPTIONS'
	# keep-alive across a preflight and the GET after it, as browsers do
	run timeout "$T" curl -sS -o /dev/null -w '%{http_code} %{num_connects}\n' -X OPTIONS \
		-H 'Origin: https://app.example' -H 'Access-Control-Request-Method: GET' \
		"$u/a.txt" --next -o /dev/null -w '%{http_code} %{num_connects}\n' "$u/a.txt"
	assert_output $'204 1\n200 0'
}

@test "--cors=ORIGIN: that origin with Vary: Origin; with --auth the preflight needs no credentials" {
	hs srv -d "$www" --cors=https://app.example --auth al:pw --upload
	u=http://127.0.0.1:$port
	run preflight "$u/a.txt"
	assert_line 'HTTP/1.1 204 No Content'
	assert_line 'Access-Control-Allow-Origin: https://app.example'
	assert_line 'Vary: Origin'
	assert_line 'Access-Control-Allow-Credentials: true'
	assert_line 'Access-Control-Allow-Methods: GET, HEAD, PUT, OPTIONS'
	refute_line --partial 'WWW-Authenticate'
	# the real request needs them, and its 401 is readable cross-origin
	run head_of -H 'Origin: https://app.example' "$u/a.txt"
	assert_line 'HTTP/1.1 401 Unauthorized'
	assert_line 'Access-Control-Allow-Origin: https://app.example'
	run head_of -u al:pw -H 'Origin: https://app.example' "$u/a.txt"
	assert_line 'HTTP/1.1 200 OK'
	assert_line 'Access-Control-Allow-Origin: https://app.example'
	assert_line 'Vary: Origin'
}

@test "without --cors: no CORS headers, OPTIONS refused as before" {
	hs srv -d "$www"
	run preflight "http://127.0.0.1:$port/a.txt"
	assert_line 'HTTP/1.1 405 Method Not Allowed'
	assert_line 'Allow: GET, HEAD'
	refute_line --partial 'Access-Control'
	run head_of -H 'Origin: https://app.example' "http://127.0.0.1:$port/a.txt"
	refute_line --partial 'Access-Control'
}

@test "--cors with --respond and with --tls" {
	hs fix --respond --status 201 --body made --cors
	run preflight "http://127.0.0.1:$port/api/x" -H 'Access-Control-Request-Method: POST'
	assert_line 'HTTP/1.1 204 No Content'
	assert_line 'Access-Control-Allow-Methods: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS'
	run head_of -X POST -d x "http://127.0.0.1:$port/api/x"
	assert_line 'HTTP/1.1 201 Created'
	assert_line 'Access-Control-Allow-Origin: *'
	need_tls
	hs sec -d "$www" --tls --cors=http://localhost:3000
	run preflight "https://127.0.0.1:$port/a.txt" -k
	assert_line 'HTTP/1.1 204 No Content'
	assert_line 'Access-Control-Allow-Origin: http://localhost:3000'
}
