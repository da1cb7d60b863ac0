#!/usr/bin/env bats
# http serve listings: sorted by name, size or date (?sort=&order=, links
# in the column headers), JSON by Accept or ?format=json (read back with
# python3's json), names escaped in both, dotfiles left out of both.
# sockctl: per-backend
load helpers
load http_serve_lib

setup() {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www/sub"
	printf '123456789' >"$www/big.txt"
	printf '1234' >"$www/mid.txt"
	printf '1' >"$www/small.txt"
	printf 'secret' >"$www/.env"
	touch -d '2020-01-01 00:00:00 UTC' "$www/mid.txt"
	touch -d '2021-06-01 12:30:00 UTC' "$www/big.txt"
	touch -d '2022-01-01 00:00:00 UTC' "$www/small.txt" "$www/sub"
}

get() {
	timeout "$T" curl -sS -g "$@"
}

# names URL [CURL ARGS]: the entry names of a JSON listing, one a line.
names() {
	get "$@" | "$PY" -c 'import json, sys
for e in json.load(sys.stdin)["entries"]: print(e["name"])'
}

# html_names URL: the entry names of an HTML listing, in page order.
html_names() {
	get "$1" | sed -n 's|.*<a href="\./[^"]*">\([^<]*\)</a>.*|\1|p'
}

@test "listing: sorted by name, size and date, either way; header links sort" {
	hs srv -d "$www"
	u=http://127.0.0.1:$port/
	run html_names "$u"
	assert_output $'big.txt\nmid.txt\nsmall.txt\nsub/'
	run html_names "$u?order=desc"
	assert_output $'sub/\nsmall.txt\nmid.txt\nbig.txt'
	run html_names "$u?sort=size"
	assert_output $'sub/\nsmall.txt\nmid.txt\nbig.txt'
	run html_names "$u?sort=size&order=desc"
	assert_output $'big.txt\nmid.txt\nsmall.txt\nsub/'
	run html_names "$u?sort=date"
	assert_output $'mid.txt\nbig.txt\nsmall.txt\nsub/'
	run html_names "$u?sort=date&order=desc"
	assert_output $'sub/\nsmall.txt\nbig.txt\nmid.txt'
	# unknown values: the default order, never an error
	run get -o /dev/null -w '%{http_code}' "$u?sort=bogus&order=sideways&x"
	assert_output 200
	# the column in effect links to the other order, the others to asc
	run get "$u?sort=size"
	assert_output --partial '<th><a href="?sort=size&amp;order=desc">Size</a> &#8593;</th>'
	assert_output --partial '<th><a href="?sort=name&amp;order=asc">Name</a></th>'
	run get "$u?sort=size&order=desc"
	assert_output --partial '<th><a href="?sort=size&amp;order=asc">Size</a> &#8595;</th>'
	# and the links work as they are, relative to the listing
	link=$(get "$u?sort=date" | grep -o 'href="?sort=date&amp;order=desc"' | head -1)
	[ -n "$link" ]
	run html_names "${u}?sort=date&order=desc"
	assert_line --index 0 'sub/'
}

@test "listing as JSON: Accept or ?format=json; name, type, size, mtime, RFC 3339; Vary: Accept" {
	hs srv -d "$www"
	u=http://127.0.0.1:$port/
	run get -D - -o "$BATS_TEST_TMPDIR/l.json" -H 'Accept: application/json' "$u"
	assert_line --partial 'Content-Type: application/json'
	assert_line --partial 'Vary: Accept'
	run "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["path"] == "/", d
for e in d["entries"]:
    print(e["name"], e["type"], e["size"], e["mtime"], e["modified"], e["url"])' \
		"$BATS_TEST_TMPDIR/l.json"
	assert_success
	assert_output "big.txt file 9 1622550600 2021-06-01T12:30:00Z ./big.txt
mid.txt file 4 1577836800 2020-01-01T00:00:00Z ./mid.txt
small.txt file 1 1640995200 2022-01-01T00:00:00Z ./small.txt
sub dir None 1640995200 2022-01-01T00:00:00Z ./sub/"
	run names "$u?format=json&sort=size&order=desc"
	assert_output $'big.txt\nmid.txt\nsmall.txt\nsub'
	run names "$u?sort=date" -H 'Accept: application/json'
	assert_output $'mid.txt\nbig.txt\nsmall.txt\nsub'
	# a browser's Accept gets HTML; ?format=html wins over Accept
	run get -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' "$u"
	assert_output --partial '<!DOCTYPE html>'
	run get -H 'Accept: application/json' "$u?format=html"
	assert_output --partial '<!DOCTYPE html>'
	run names "$u" -H 'Accept: application/json;q=0, text/plain'
	[ "$status" -ne 0 ]
	# a subdirectory's path
	run get "${u}sub/?format=json"
	assert_output --partial '"path":"/sub/"'
	assert_output --partial '"entries":['
	# dotfiles stay out of JSON too
	refute_output --partial '.env'
	run get "$u?format=json"
	refute_output --partial '.env'
}

@test "listing: names escaped in HTML and JSON (quotes, markup, UTF-8, control bytes, bad UTF-8)" {
	touch "$www/x\"><svg onload=alert(1)>.txt" "$www/caf"$'\xc3\xa9'" & more.txt" \
		"$www/tab"$'\t'"name" "$www/bad"$'\xff'".txt" "$www/back\\slash"
	hs srv -d "$www"
	u=http://127.0.0.1:$port/
	run get "$u"
	refute_output --partial '<svg'
	assert_output --partial '&lt;svg onload=alert(1)&gt;'
	assert_output --partial '&amp; more.txt'
	run "$PY" -c 'import json, sys, urllib.parse
d = json.load(sys.stdin)
for e in d["entries"]:
    raw = urllib.parse.unquote_to_bytes(e["url"][2:].rstrip("/"))
    print(ascii(e["name"]), raw == e["name"].encode("utf-8") or ascii(raw))' \
		< <(get "$u?format=json")
	assert_success
	assert_line "'x\"><svg onload=alert(1)>.txt' True"
	assert_line "'caf\\xe9 & more.txt' True"
	assert_line "'tab\\tname' True"
	assert_line "'back\\\\slash' True"
	# not UTF-8: U+FFFD in the name, the exact bytes in the url
	assert_line "'bad\\ufffd.txt' b'bad\\xff.txt'"
}

@test "listing over --tls, with --auth, and --no-listing refuses JSON too" {
	need_tls
	hs srv -d "$www" --tls --auth al:pw
	run names "https://127.0.0.1:$port/?sort=size" -k -u al:pw -H 'Accept: application/json'
	assert_output $'sub\nsmall.txt\nmid.txt\nbig.txt'
	hs nol -d "$www" --no-listing
	run get -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?format=json"
	assert_output 403
}
