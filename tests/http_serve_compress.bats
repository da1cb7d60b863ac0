#!/usr/bin/env bats
# http serve --compress with curl: Accept-Encoding negotiation (gzip, br,
# identity, q=0, *), precompressed siblings (used only when not older than
# the file), text compressed on the fly decoding to the original bytes,
# Range always identity, Vary and distinct ETags, over --tls too.
# sockctl: per-backend
load helpers
load http_serve_lib

setup() {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www"
	seq 1 5000 >"$www/t.txt"
	seq 1 2000 | sed 's/.*/{"n":&}/' >"$www/d.json"
	head -c 50000 /dev/urandom >"$www/r.bin"
	# a sibling pair: p.txt with p.txt.gz and p.txt.br, a minute newer
	seq 1 3000 >"$www/p.txt"
	gzip -k -9 "$www/p.txt"
	printf 'these stand for br bytes' >"$www/p.txt.br"
	touch -d '+1 min' "$www/p.txt.gz" "$www/p.txt.br"
	# an outdated sibling: older than its file
	seq 1 4000 >"$www/o.txt"
	printf 'stale' >"$www/o.txt.gz"
	touch -d '-1 hour' "$www/o.txt.gz"
}

# hdr AE PATH [CURL ARGS]: the response head for Accept-Encoding AE ("-":
# none), CRs dropped; the body in $BATS_TEST_TMPDIR/body.
hdr() {
	local ae=$1 path=$2
	shift 2
	local h=()
	[[ $ae == - ]] || h=(-H "Accept-Encoding: $ae")
	timeout "$T" curl -sS -o "$BATS_TEST_TMPDIR/body" -D - "${h[@]}" "$@" \
		"${base:-http://127.0.0.1:$port}$path" | tr -d '\r'
}

# enc AE PATH [CURL ARGS]: the Content-Encoding sent (or "identity").
enc() {
	local e
	e=$(hdr "$@" | sed -n 's/^Content-Encoding: //p')
	echo "${e:-identity}"
}

# need_codecs: skips unless this build compresses with both gzip and br
# (configure --without-zlib/--without-brotli serves siblings only).
need_codecs() {
	grep -q 'br and gzip on the fly' "$BATS_TEST_TMPDIR/srv.err" ||
		skip "this build lacks zlib or libbrotli: $(grep -- --compress "$BATS_TEST_TMPDIR/srv.err")"
}

@test "--compress: Accept-Encoding negotiation with q-values, identity, q=0 and *" {
	hs srv -v -d "$www" --compress
	need_codecs
	[ "$(enc - /t.txt)" = identity ]
	[ "$(enc gzip /t.txt)" = gzip ]
	[ "$(enc br /t.txt)" = br ]
	[ "$(enc 'gzip, deflate, br' /t.txt)" = br ]
	[ "$(enc 'br;q=0.5, gzip' /t.txt)" = gzip ]
	# identity not named is q=1: it wins over codings of lower q
	[ "$(enc 'gzip;q=0.1, br;q=0.2' /t.txt)" = identity ]
	[ "$(enc 'gzip;q=0.1, br;q=0.2, identity;q=0.05' /t.txt)" = br ]
	[ "$(enc identity /t.txt)" = identity ]
	[ "$(enc 'gzip;q=0' /t.txt)" = identity ]
	[ "$(enc 'br;q=0, gzip;q=0' /t.txt)" = identity ]
	[ "$(enc '*' /t.txt)" = br ]
	[ "$(enc 'br;q=0, *' /t.txt)" = gzip ]
	[ "$(enc '*;q=0' /t.txt)" = identity ]
	[ "$(enc 'identity, gzip;q=0.5' /t.txt)" = identity ]
	[ "$(enc 'zstd, compress' /t.txt)" = identity ]
	[ "$(enc 'gzip;q=2' /t.txt)" = identity ]
	[ "$(enc gzip /d.json)" = gzip ]
	# not a text type: as it is
	[ "$(enc 'gzip, br' /r.bin)" = identity ]
}

@test "--compress: curl --compressed decodes to the original bytes; lengths, Vary and ETags" {
	hs srv -v -d "$www" --compress
	need_codecs
	for ae in gzip br 'gzip, br'; do
		timeout "$T" curl -sS --compressed -H "Accept-Encoding: $ae" \
			"http://127.0.0.1:$port/t.txt" | cmp - "$www/t.txt"
		timeout "$T" curl -sS --compressed -H "Accept-Encoding: $ae" \
			"http://127.0.0.1:$port/d.json" | cmp - "$www/d.json"
	done
	run hdr gzip /t.txt
	assert_line 'Vary: Accept-Encoding'
	assert_line 'Content-Encoding: gzip'
	len=$(sed -n 's/^Content-Length: //p' <<<"$output")
	[ "$len" -eq "$(stat -c %s "$BATS_TEST_TMPDIR/body")" ]
	[ "$len" -lt "$(stat -c %s "$www/t.txt")" ]
	gzip -dc "$BATS_TEST_TMPDIR/body" | cmp - "$www/t.txt"
	etag_gz=$(sed -n 's/^ETag: //p' <<<"$output")
	run hdr br /t.txt
	etag_br=$(sed -n 's/^ETag: //p' <<<"$output")
	run hdr - /t.txt
	assert_line 'Vary: Accept-Encoding'
	refute_line --partial 'Content-Encoding'
	etag_id=$(sed -n 's/^ETag: //p' <<<"$output")
	[ "$etag_gz" != "$etag_id" ] && [ "$etag_br" != "$etag_id" ] && [ "$etag_gz" != "$etag_br" ]
	# each variant's tag revalidates that variant only
	run hdr gzip /t.txt -H "If-None-Match: $etag_gz"
	assert_line 'HTTP/1.1 304 Not Modified'
	assert_line 'Vary: Accept-Encoding'
	run hdr br /t.txt -H "If-None-Match: $etag_gz"
	assert_line 'HTTP/1.1 200 OK'
	run hdr - /t.txt -H "If-None-Match: $etag_gz"
	assert_line 'HTTP/1.1 200 OK'
	# HEAD: the encoded length, no body
	run timeout "$T" curl -sS -I -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/t.txt"
	assert_line --partial "Content-Length: $len"
}

@test "--compress: precompressed siblings served as they are, when newer and accepted" {
	hs srv -v -d "$www" --compress
	run hdr gzip /p.txt
	assert_line 'Content-Encoding: gzip'
	assert_line 'Content-Type: text/plain'
	cmp "$BATS_TEST_TMPDIR/body" "$www/p.txt.gz"
	run hdr br /p.txt
	assert_line 'Content-Encoding: br'
	assert_line "Content-Length: $(stat -c %s "$www/p.txt.br")"
	cmp "$BATS_TEST_TMPDIR/body" "$www/p.txt.br"
	run hdr 'gzip, br;q=0.5' /p.txt
	assert_line 'Content-Encoding: gzip'
	run hdr 'br;q=0' /p.txt
	refute_line --partial 'Content-Encoding'
	cmp "$BATS_TEST_TMPDIR/body" "$www/p.txt"
	timeout "$T" curl -sS --compressed -H 'Accept-Encoding: gzip' \
		"http://127.0.0.1:$port/p.txt" | cmp - "$www/p.txt"
	# an outdated sibling is not used: compressed here instead, if the
	# build can (else sent as it is)
	run hdr gzip /o.txt
	if grep -q 'gzip on the fly' "$BATS_TEST_TMPDIR/srv.err"; then
		assert_line 'Content-Encoding: gzip'
		gzip -dc "$BATS_TEST_TMPDIR/body" | cmp - "$www/o.txt"
	else
		refute_line --partial 'Content-Encoding'
		cmp "$BATS_TEST_TMPDIR/body" "$www/o.txt"
	fi
	# the sibling itself, asked for by name, is a file like any other
	run hdr gzip /p.txt.gz
	refute_line --partial 'Content-Encoding'
	cmp "$BATS_TEST_TMPDIR/body" "$www/p.txt.gz"
	# without --compress siblings are never looked at
	hs plain -d "$www"
	run hdr gzip /p.txt
	refute_line --partial 'Content-Encoding'
	refute_line --partial 'Vary'
	cmp "$BATS_TEST_TMPDIR/body" "$www/p.txt"
}

@test "--compress: a Range request gets identity, sibling or not" {
	hs srv -d "$www" --compress
	run hdr 'gzip, br' /t.txt -r 0-9
	assert_line 'HTTP/1.1 206 Partial Content'
	assert_line 'Vary: Accept-Encoding'
	refute_line --partial 'Content-Encoding'
	[ "$(cat "$BATS_TEST_TMPDIR/body")" = "$(head -c 10 "$www/t.txt")" ]
	run hdr 'gzip, br' /p.txt -r 5-
	assert_line 'HTTP/1.1 206 Partial Content'
	refute_line --partial 'Content-Encoding'
	tail -c +6 "$www/p.txt" | cmp - "$BATS_TEST_TMPDIR/body"
}

@test "--compress over --tls, and a file changed between requests is compressed anew" {
	need_tls
	hs srv -v -d "$www" --compress --tls
	need_codecs
	base=https://127.0.0.1:$port
	for ae in gzip br; do
		timeout "$T" curl -sS -k --compressed -H "Accept-Encoding: $ae" "$base/t.txt" |
			cmp - "$www/t.txt"
	done
	[ "$(enc 'br' /p.txt -k)" = br ]
	cmp "$BATS_TEST_TMPDIR/body" "$www/p.txt.br"
	seq 10 6000 >"$www/t.txt"
	timeout "$T" curl -sS -k --compressed -H 'Accept-Encoding: br' "$base/t.txt" |
		cmp - "$www/t.txt"
}
