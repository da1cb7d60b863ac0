#!/usr/bin/env bats
# http serve's small-file cache: a file that changes between two requests
# is served anew (same size with a new mtime; the same mtime second with a
# new inode by rename; a file removed; a directory's index.html), files over --cache-max-file and
# --cache-size 0 still served, HEAD and 304 from the cache, over --tls.
# sockctl: per-backend
load helpers
load http_serve_lib

setup() {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www"
	printf 'version 1\n' >"$www/v.txt"
	head -c 100000 /dev/urandom >"$www/big.bin"
}

get() {
	timeout "$T" curl -sS "${base:-http://127.0.0.1:$port}$1" "${@:2}"
}

@test "cache: same size, new mtime is seen at the next request" {
	hs srv -d "$www"
	[ "$(get /v.txt)" = 'version 1' ]
	[ "$(get /v.txt)" = 'version 1' ]
	# rewritten in place: same inode, same size, a later mtime
	printf 'version 2\n' >"$www/v.txt"
	touch -d '+2 sec' "$www/v.txt"
	[ "$(get /v.txt)" = 'version 2' ]
	[ "$(get /v.txt)" = 'version 2' ]
}

@test "cache: a directory's index.html by the directory's URL: a change is seen, a removed one gives the listing" {
	mkdir "$www/d"
	printf 'index 1\n' >"$www/d/index.html"
	hs srv -d "$www"
	[ "$(get /d/)" = 'index 1' ]
	[ "$(get /d/)" = 'index 1' ]
	[ "$(get /d/index.html)" = 'index 1' ]
	printf 'index 2\n' >"$www/d/index.html"
	touch -d '+2 sec' "$www/d/index.html"
	[ "$(get /d/)" = 'index 2' ]
	[ "$(get /d/)" = 'index 2' ]
	rm "$www/d/index.html"
	printf 'x\n' >"$www/d/other.txt"
	run get /d/
	assert_output --partial 'other.txt'
	# The directory's URL without its slash is still redirected.
	run get /d -o /dev/null -w '%{http_code}'
	assert_output 301
}

@test "cache: the same mtime second, a new inode by rename; a removed file is gone" {
	hs srv -d "$www"
	[ "$(get /v.txt)" = 'version 1' ]
	[ "$(get /v.txt)" = 'version 1' ]
	printf 'version 3\n' >"$www/new.tmp"
	touch -r "$www/v.txt" "$www/new.tmp"
	[ "$(stat -c %Y%s "$www/new.tmp")" = "$(stat -c %Y%s "$www/v.txt")" ]
	mv "$www/new.tmp" "$www/v.txt"
	[ "$(get /v.txt)" = 'version 3' ]
	rm "$www/v.txt"
	[ "$(get /v.txt -o /dev/null -w '%{http_code}')" = 404 ]
	printf 'version 4\n' >"$www/v.txt"
	[ "$(get /v.txt)" = 'version 4' ]
}

@test "cache: same inode, size and mtime set back by hand: ctime tells" {
	hs srv -d "$www"
	touch -d '2020-01-01 00:00:00' "$www/v.txt"
	[ "$(get /v.txt)" = 'version 1' ]
	printf 'version 5\n' >"$www/v.txt"
	touch -d '2020-01-01 00:00:00' "$www/v.txt"
	[ "$(get /v.txt)" = 'version 5' ]
}

@test "cache: HEAD, 304 and headers from the cache match the file's; big files and --cache-size 0 served" {
	hs srv -d "$www"
	get /v.txt >/dev/null
	run get /v.txt -D - -o /dev/null
	h1=$(grep -v '^Date:' <<<"$output")
	etag=$(sed -n 's/^ETag: \(.*\)\r$/\1/p' <<<"$output")
	[ -n "$etag" ]
	hs nocache -d "$www" --cache-size 0
	run get /v.txt -D - -o /dev/null
	h2=$(grep -v '^Date:' <<<"$output")
	[ "$h1" = "$h2" ]
	get /big.bin | cmp - "$www/big.bin"
	get /v.txt | cmp - "$www/v.txt"
	hs srv2 -d "$www" --cache-max-file 200K
	get /big.bin | cmp - "$www/big.bin"
	get /big.bin | cmp - "$www/big.bin"
	run get /v.txt -I
	assert_line --partial 'Content-Length: 10'
	run get /v.txt -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag"
	assert_output 304
	run get /v.txt -o /dev/null -w '%{http_code}' -r 0-3
	assert_output 206
	[ "$(get /v.txt -r 0-6)" = 'version' ]
}

@test "cache: what --compress made is kept per coding and dropped when the file changes" {
	seq 1 3000 >"$www/t.txt"
	hs srv -v -d "$www" --compress
	grep -q 'br and gzip on the fly' "$BATS_TEST_TMPDIR/srv.err" || skip "no zlib or libbrotli"
	for ae in gzip br gzip br identity gzip; do
		get /t.txt --compressed -H "Accept-Encoding: $ae" | cmp - "$www/t.txt"
	done
	run get /t.txt -D - -o /dev/null -H 'Accept-Encoding: br'
	assert_line --partial 'Content-Encoding: br'
	# the same size, another mtime: compressed anew
	seq 1 3000 | tr 1 7 >"$www/t.txt"
	touch -d '+2 sec' "$www/t.txt"
	for ae in gzip br; do
		get /t.txt --compressed -H "Accept-Encoding: $ae" | cmp - "$www/t.txt"
	done
	# and a new inode by rename within the same second
	seq 1 3000 | tr 1 8 >"$www/t.new"
	touch -r "$www/t.txt" "$www/t.new"
	mv "$www/t.new" "$www/t.txt"
	for ae in gzip br; do
		get /t.txt --compressed -H "Accept-Encoding: $ae" | cmp - "$www/t.txt"
	done
}

@test "cache over --tls, with --compress, with --workers" {
	need_tls
	hs srv -d "$www" --tls --compress
	base=https://127.0.0.1:$port
	[ "$(get /v.txt -k)" = 'version 1' ]
	[ "$(get /v.txt -k)" = 'version 1' ]
	printf 'version 6\n' >"$www/v.txt"
	touch -d '+2 sec' "$www/v.txt"
	[ "$(get /v.txt -k)" = 'version 6' ]
	# a client that takes gzip gets the coding, not the cached identity
	run get /v.txt -k -D - -o /dev/null -H 'Accept-Encoding: gzip'
	assert_line --partial 'Vary: Accept-Encoding'
	get /v.txt -k --compressed | cmp - "$www/v.txt"
	unset base
	hs w2 -d "$www" --workers 2
	for _ in 1 2 3 4; do [ "$(get /v.txt)" = 'version 6' ]; done
	printf 'version 7\n' >"$www/v.txt"
	touch -d '+4 sec' "$www/v.txt"
	for _ in 1 2 3 4; do [ "$(get /v.txt)" = 'version 7' ]; done
}
