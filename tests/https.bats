#!/usr/bin/env bats
# TLS on the http and chat commands: http serve --tls (curl, wrk, every
# model), http get https:// (against http serve --tls, nginx with ssl and
# a scripted peer: verification, redirects between http and https,
# chunked bodies, client certificates), chat serve/connect --tls (and
# ncat --ssl as a chat client). The test CA is tests/tls_pki.bash's.
# sockctl: per-backend
load helpers
load nginx
load tls_pki

setup_file() {
	pki_setup_file
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	pki_vars
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www"
	printf 'hello\n' >"$www/index.html"
	printf '0123456789abcdefghij' >"$www/digits.txt"
}

# stop_all: ends what the test started so far (before the next round).
stop_all() {
	teardown_common || true
}

# hs NAME ARGS...: http serve --tls with the good chain on port 0.
hs() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" http serve -d "$www" --tls "${GOOD[@]}" "$@" 0
	wait_ready "$name"
}

get() {
	timeout "$T" "$SOCKCTL" http get "$@"
}

# peer_bg NAME [--tls]: the scripted HTTP peer (tests/http_get_peer.py),
# plain or over TLS with the good chain; sets $port.
peer_bg() {
	local name=$1
	shift
	local tls=()
	[[ ${1:-} == --tls ]] && tls=(--tls "$PKI/good-chain.pem" "$PKI/good.key")
	start_bg "$name" "$PY" "$BATS_TEST_DIRNAME/http_get_peer.py" "${tls[@]}"
	wait_ready "$name" || fail "the scripted peer did not start"
}

@test "http serve --tls: curl verified, 1 MiB byte-exact, keep-alive, Range, HEAD, the access log" {
	head -c 1048576 /dev/urandom >"$www/big.bin"
	hs srv
	grep -q "serving $www at https://127.0.0.1:$port/" srv.err
	run -0 timeout $T curl -sS --cacert "$CA" -o got.bin "https://localhost:$port/big.bin"
	cmp got.bin "$www/big.bin"
	# Several URLs on one connection: curl says it reuses it.
	run -0 timeout $T curl -sSv --cacert "$CA" "https://localhost:$port/" \
		"https://localhost:$port/digits.txt"
	assert_output --partial "Re-using existing connection"
	assert_output --partial "ALPN: server accepted http/1.1"
	assert_output --partial "hello"
	assert_output --partial "0123456789abcdefghij"
	run -0 timeout $T curl -sS --cacert "$CA" -r 5-9 "https://localhost:$port/digits.txt"
	assert_output "56789"
	run -0 timeout $T curl -sS --cacert "$CA" -I "https://localhost:$port/big.bin"
	assert_output --partial $'Content-Length: 1048576\r'
	# The file went by the copy path, not sendfile (a TLS stream has none
	# unless the kernel does TLS): the bytes matched above.
	wait_file_contains srv.out '"GET /big.bin HTTP/1.1" 200 1048576'
	wait_file_contains srv.out '"GET /digits.txt HTTP/1.1" 206 5'
	wait_file_contains srv.out '"HEAD /big.bin HTTP/1.1" 200'
	# A plain-text client is no TLS client: dropped, and the server goes on.
	run timeout $T curl -sS "http://127.0.0.1:$port/"
	assert_failure
	run -0 timeout $T curl -sS --cacert "$CA" "https://127.0.0.1:$port/"
	assert_output "hello"
}

@test "http serve --tls: a client that never finishes its handshake holds up nobody, and is dropped at the deadline" {
	hs srv --handshake-timeout 1 -v
	# A TCP connection that sends no ClientHello.
	exec 6<>"/dev/tcp/127.0.0.1/$port"
	run -0 timeout $T curl -sS --cacert "$CA" -w ' %{time_total}' "https://localhost:$port/"
	assert_output --regexp '^hello'
	# Served at once, not after the stalled handshake's deadline.
	awk -v t="${output##* }" 'BEGIN { exit !(t < 0.9) }'
	wait_file_contains srv.err "timed out after 1 s"
	# The server closed it: reading gives EOF.
	run timeout 5 cat <&6
	assert_success
	exec 6<&-
}

@test "http serve --tls --workers 2, --max-conns counts handshakes, and wrk over https" {
	hs srv --workers 2 --log-format none
	local i
	for i in 1 2 3 4; do
		run -0 timeout $T curl -sS --cacert "$CA" "https://localhost:$port/digits.txt"
		assert_output "0123456789abcdefghij"
	done
	command -v wrk >/dev/null || skip "wrk is not installed"
	run -0 timeout $T wrk -t1 -c4 -d1s "https://127.0.0.1:$port/index.html"
	assert_output --regexp 'Requests/sec: +[0-9]'
	refute_output --partial 'Non-2xx'
	refute_output --partial 'Socket errors'
	stop_all
	# One connection at once: a second waits in the backlog while the
	# first one's handshake has not finished.
	hs one --max-conns 1 --handshake-timeout 2
	exec 6<>"/dev/tcp/127.0.0.1/$port"
	run -0 timeout $T curl -sS --cacert "$CA" -w ' %{time_total}' "https://localhost:$port/"
	assert_output --regexp '^hello'
	# It was served only after the stalled handshake's deadline.
	awk -v t="${output##* }" 'BEGIN { exit !(t > 1.5) }'
	exec 6<&-
}

@test "http serve --tls without --cert: a temporary certificate, its pin on the readiness line, curl pins it" {
	local d=$BATS_TEST_TMPDIR/www
	mkdir -p "$d" && echo tmp >"$d/t.txt"
	start_bg srv "$SOCKCTL" http serve --tls -d "$d" 127.0.0.1:0
	wait_ready srv
	local pin
	pin=$(sed -n 's/.*listening on .*, tls pin \(sha256\/\/[A-Za-z0-9+/=]*\))$/\1/p' \
		"$BATS_TEST_TMPDIR/srv.err")
	[[ -n $pin ]]
	run -0 timeout $T curl -sS -k --pinnedpubkey "$pin" "https://127.0.0.1:$port/t.txt"
	assert_output tmp
	run -0 timeout $T "$SOCKCTL" http get --pin "$pin" "https://127.0.0.1:$port/t.txt"
	assert_output tmp
	run -90 timeout $T "$SOCKCTL" http get --pin "sha256//$(printf '%043d=' 0 | tr 0 A)" \
		"https://127.0.0.1:$port/t.txt"
}

@test "http serve --tls: bad input" {
	run -2 "$SOCKCTL" http serve --tls --key "$PKI/good.key" 0
	assert_output --partial "--key needs --cert"
	run -2 "$SOCKCTL" http serve --cert "$PKI/good.pem" --key "$PKI/good.key" 0
	assert_output --partial "--cert needs --tls"
	run -58 "$SOCKCTL" http serve --tls --cert "$PKI/good.pem" --key "$PKI/other.key" 0
	assert_output --partial "does not match"
	run -77 "$SOCKCTL" http serve --tls "${GOOD[@]}" --client-ca "$BATS_TEST_TMPDIR/none.pem" 0
	run -2 "$SOCKCTL" http serve --tls "${GOOD[@]}" --tls-min 1.1 0
	run -2 "$SOCKCTL" http serve --tls "${GOOD[@]}" --alpn h2 0
	assert_output --partial "http/1.1 only"
}

@test "http get https://: verified against http serve --tls, -v, keep-alive, a few MiB byte-exact" {
	head -c $((3 * 1048576 + 17)) /dev/urandom >"$www/big.bin"
	hs srv
	get --cacert "$CA" -o got.bin "https://localhost:$port/big.bin"
	cmp got.bin "$www/big.bin"
	get --cacert "$CA" "https://127.0.0.1:$port/big.bin" | cmp - "$www/big.bin"
	run -0 --separate-stderr get -v --cacert "$CA" "https://localhost:$port/" \
		"https://localhost:$port/digits.txt"
	assert_output "hello"$'\n'"0123456789abcdefghij"
	[[ $stderr == *"TLS with localhost: TLSv1.3"*"peer CN=localhost, verified"* ]]
	[[ $stderr == *"reusing the connection to localhost"* ]]
	# SNI from the URL's host, ALPN http/1.1.
	stop_all
	hs srv -v
	run -0 get --cacert "$CA" "https://localhost:$port/"
	wait_file_contains srv.err "SNI localhost, ALPN http/1.1"
	# --tlsv1.3 (curl's), --tls-max, --json
	run -0 get --cacert "$CA" --tlsv1.3 "https://localhost:$port/"
	run -0 get --cacert "$CA" --tls-max 1.2 --json "https://localhost:$port/"
	"$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["status"]==200 and d["exit"]==0, d' <<<"$output"
}

@test "http get https://: wrong name, unknown CA, expired: 60 with the reason; -k and --insecure fetch anyway; CA file 77" {
	local c name why
	for c in wrongname:"hostname mismatch" unknown:"unable to get local issuer certificate" \
		expired:"certificate has expired"; do
		name=${c%%:*} why=${c#*:}
		start_bg srv "$SOCKCTL" http serve -d "$www" --tls --cert "$PKI/$name.pem" \
			--key "$PKI/$name.key" 0
		wait_ready srv
		run get --cacert "$CA" "https://localhost:$port/"
		[ "$status" -eq 60 ] || { echo "$name: status $status: $output"; false; }
		assert_output --partial "certificate verify failed: $why"
		run -0 get -k "https://localhost:$port/"
		assert_output "hello"
		run -0 get --insecure "https://localhost:$port/"
		stop_all
	done
	hs srv
	# The system store does not know the test CA.
	run -60 get "https://localhost:$port/"
	run -77 get --cacert "$BATS_TEST_TMPDIR/none.pem" "https://localhost:$port/"
	assert_output --partial "none.pem"
	# A CA file only https needs: a plain URL does not load it.
	run -7 get --cacert "$BATS_TEST_TMPDIR/none.pem" "http://127.0.0.1:$(free_port)/"
	# A handshake with a peer that speaks no TLS: 35.
	start_bg plain "$SOCKCTL" serve -k --respond 'HTTP/1.1 200 OK\r\n\r\n' 0
	wait_ready plain
	run -35 get --cacert "$CA" "https://127.0.0.1:$port/"
	assert_output --partial "TLS handshake with 127.0.0.1 failed"
}

@test "http get https://: client certificates, and options that make no sense for http get" {
	hs srv --client-ca "$CA"
	run -0 get --cacert "$CA" --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		"https://localhost:$port/"
	assert_output "hello"
	# The access log's user field is the verified client's subject.
	wait_file_contains srv.out '127.0.0.1 - CN=alice ['
	hs jsrv --client-ca "$CA" --log-format json
	run -0 get --cacert "$CA" --cert "$PKI/alice.pem" --key "$PKI/alice.key" \
		"https://localhost:$port/"
	wait_file_contains jsrv.out '"tls_subject":"CN=alice"'
	# Without one the server refuses (TLS 1.3: after the handshake).
	run get --cacert "$CA" "https://localhost:$port/"
	assert_failure
	run -58 get --cacert "$CA" --cert "$PKI/alice.pem" --key "$PKI/other.key" \
		"https://localhost:$port/"
	run -2 get --cert "$PKI/alice.pem" "https://localhost:$port/"
	assert_output --partial "--cert and --key go together"
	run -2 get --tls "https://localhost:$port/"
	assert_output --partial "https:// URLs use TLS"
	run -2 get --alpn h2 "https://localhost:$port/"
	assert_output --partial "http/1.1 only"
	run -2 get --tls-min 1.0 "https://localhost:$port/"
}

@test "http get: redirects https -> http and http -> https, each a new connection; chunked over TLS" {
	peer_bg tpeer --tls
	local tport=$port
	peer_bg ppeer
	local pport=$port
	run -0 --separate-stderr get -v -L --cacert "$CA" \
		"https://localhost:$tport/to?http://127.0.0.1:$pport/conn"
	assert_output --regexp '^connection [0-9]+$'
	[[ $stderr == *"redirect 302 to http://127.0.0.1:$pport/conn"* ]]
	run -0 --separate-stderr get -v -L --cacert "$CA" \
		"http://127.0.0.1:$pport/to?https://localhost:$tport/chunked"
	assert_output "hello, chunked world"
	[[ $stderr == *"TLS with localhost"* ]]
	# The same host and port, the other scheme: never the same connection.
	run -0 get --cacert "$CA" "https://localhost:$tport/chunked"
	assert_output "hello, chunked world"
	# A kept-alive TLS connection the server closed without close_notify
	# is tried again on a new one, as a plain one is.
	run -0 get --cacert "$CA" "https://localhost:$tport/close-after" \
		"https://localhost:$tport/conn"
	assert_output --regexp '^byeconnection [0-9]+$'
	# Cut short by a close without close_notify: 56, as curl has it; a
	# close taken as the end leaves the length short: 18, as over http.
	run -56 get --cacert "$CA" "https://localhost:$tport/truncated"
	assert_output --partial "without close_notify"
	run -18 get --cacert "$CA" --tls-allow-truncation "https://localhost:$tport/truncated"
}

# nginx_tls_bg: nginx with ssl (the good chain) serving $www; sets $port.
nginx_tls_bg() {
	NGINX_SSL=1 NGINX_CERT=$PKI/good-chain.pem NGINX_KEY=$PKI/good.key \
		NGINX_SERVER='location /chunked { gzip on; gzip_types *; gzip_min_length 1; }' \
		nginx_start "$www"
}

@test "http get https:// against nginx with ssl: verified, byte-exact, keep-alive, gzip chunked, wrong name" {
	head -c $((2 * 1048576 + 5)) /dev/urandom >"$www/big.bin"
	mkdir -p "$www/chunked"
	seq 1 20000 >"$www/chunked/index.html"
	nginx_tls_bg
	get --cacert "$CA" -o got.bin "https://localhost:$port/big.bin"
	cmp got.bin "$www/big.bin"
	run -0 --separate-stderr get -v --cacert "$CA" "https://localhost:$port/index.html" \
		"https://localhost:$port/index.html" "https://127.0.0.1:$port/index.html"
	[[ $stderr == *"reusing the connection to localhost"* ]]
	# Another host name is another origin: its own connection.
	[[ $(grep -c "TLS with" <<<"$stderr") -eq 2 ]]
	# Chunked (nginx compresses on the fly): the body as sent, gzipped.
	run -0 --separate-stderr get -i -H 'Accept-Encoding: gzip' --cacert "$CA" \
		"https://localhost:$port/chunked/"
	assert_output --partial $'Transfer-Encoding: chunked\r'
	get -H 'Accept-Encoding: gzip' --cacert "$CA" "https://localhost:$port/chunked/" |
		gzip -dc | cmp - "$www/chunked/index.html"
	# The certificate names localhost and 127.0.0.1, not this.
	run -60 get --cacert "$CA" --sni other.example "https://127.0.0.1:$port/index.html"
	assert_output --partial "hostname mismatch"
}

@test "chat serve --tls: two chat clients over TLS exchange lines; a verified client certificate shows in /who and -v" {
	start_bg srv "$SOCKCTL" -v chat serve --tls "${GOOD[@]}" --client-ca "$CA" 0
	wait_ready srv
	local cert=(--cacert "$CA" --cert "$PKI/alice.pem" --key "$PKI/alice.key")
	mkfifo a.in
	exec 8<>a.in
	start_bg_stdin a a.in "$SOCKCTL" chat connect --tls "${cert[@]}" -N ann localhost "$port"
	wait_file_contains a.out "you are now ann"
	run -0 bash -c "{ echo 'hello from bob'; echo /who; sleep 0.3; } |
		timeout $T '$SOCKCTL' chat connect --tls ${cert[*]} -N bob localhost $port"
	assert_output --partial "ann [CN=alice]"
	wait_file_contains a.out "<bob> hello from bob"
	echo "hi bob" >&8
	wait_file_contains srv.out "<ann> hi bob"
	exec 8>&-
	wait_file_contains srv.err "connected from 127.0.0.1"
	grep -q "certificate CN=alice" srv.err
	grep -q "peer CN=alice, verified" srv.err
	# No certificate: the server refuses (TLS 1.3 tells after the handshake).
	run timeout $T "$SOCKCTL" chat connect --tls --cacert "$CA" localhost "$port" </dev/null
	assert_failure
	# The client verifies the server: an unknown CA is 60.
	run -60 timeout $T "$SOCKCTL" chat connect --tls "${cert[@]:2}" localhost "$port" </dev/null
	assert_output --partial "certificate verify failed"
}

@test "chat serve --tls: ncat --ssl as a chat client; chat connect --tls -k; a plain client is dropped" {
	command -v ncat >/dev/null || skip "ncat is not installed"
	start_bg srv "$SOCKCTL" chat serve --tls "${GOOD[@]}" 0
	wait_ready srv
	run -0 bash -c "{ echo '/nick nc'; echo 'over ncat'; sleep 0.5; } |
		timeout $T ncat --ssl --ssl-verify --ssl-trustfile '$CA' localhost $port"
	assert_output --partial "you are now nc"
	wait_file_contains srv.out "<nc> over ncat"
	run -0 bash -c "{ echo 'via -k'; sleep 0.3; } |
		timeout $T '$SOCKCTL' chat connect --tls -k -N kay 127.0.0.1 $port"
	wait_file_contains srv.out "<kay> via -k"
	run timeout $T "$SOCKCTL" chat connect 127.0.0.1 "$port" </dev/null
	refute_output --partial "welcome"
	run -2 "$SOCKCTL" chat serve --tls --key "$PKI/good.key" 0
	assert_output --partial "--key needs --cert"
	# Without --cert: a temporary certificate; its pin verifies it.
	start_bg tmp "$SOCKCTL" chat serve --tls 127.0.0.1 0
	wait_ready tmp
	local pin
	pin=$(sed -n 's/.*listening on .*, tls pin \(sha256\/\/[A-Za-z0-9+/=]*\))$/\1/p' \
		"$BATS_TEST_TMPDIR/tmp.err")
	[[ -n $pin ]]
	run -0 bash -c "{ echo 'pinned'; sleep 0.3; } |
		timeout $T '$SOCKCTL' chat connect --tls --pin '$pin' -N pia 127.0.0.1 $port"
	wait_file_contains tmp.out "<pia> pinned"
	run -2 "$SOCKCTL" chat connect --cacert "$CA" localhost 1
	assert_output --partial "--cacert needs --tls"
}

# proxies_bg: ncat's HTTP proxy on $hp and microsocks (SOCKS5, USER:PASS
# alice:secret) on $sp, on loopback; neither says when it listens.
proxies_bg() {
	command -v microsocks >/dev/null || skip "microsocks is not installed (build-aux/install-deps.sh)"
	command -v ncat >/dev/null || skip "ncat is not installed"
	hp=$(free_port)
	start_bg hproxy ncat -l 127.0.0.1 "$hp" --proxy-type http
	sp=$(free_port)
	start_bg sproxy microsocks -i 127.0.0.1 -p "$sp" -u alice -P secret
	local i
	for i in $(seq 200); do
		[[ $("$SOCKCTL" connect -z --open 127.0.0.1 "$hp,$sp" | wc -l) == 2 ]] && return 0
		sleep 0.05
	done
	fail "the proxies did not start"
}

@test "http get -x: TLS to the target through an HTTP CONNECT and a SOCKS5 tunnel, verified end to end" {
	head -c 1048577 /dev/urandom >"$www/big.bin"
	hs srv
	proxies_bg
	local via
	for via in "127.0.0.1:$hp" "http://127.0.0.1:$hp/" "socks5h://127.0.0.1:$sp -U alice:secret"; do
		# shellcheck disable=SC2086
		get -x $via --cacert "$CA" "https://localhost:$port/big.bin" | cmp - "$www/big.bin"
		# shellcheck disable=SC2086
		run -0 --separate-stderr get -v -x $via --cacert "$CA" "https://localhost:$port/" \
			"https://localhost:$port/digits.txt"
		assert_output "hello"$'\n'"0123456789abcdefghij"
		[[ $stderr == *"tunnel to localhost port $port open through the proxy"* ]]
		[[ $stderr == *"TLS with localhost: TLSv1.3"*"verified"* ]]
		[[ $stderr == *"reusing the connection to localhost"* ]]
	done
	# The name the certificate is checked against is the URL's, not the proxy's.
	run -60 get -x "127.0.0.1:$hp" --cacert "$CA" --sni other.example "https://localhost:$port/"
	run -97 get -x "socks5://127.0.0.1:$sp" -U alice:wrong --cacert "$CA" "https://localhost:$port/"
	assert_output --partial "proxy refused the user name or password"
	run -97 get -x "127.0.0.1:$hp" "http://127.0.0.1:$(free_port)/"
	assert_output --partial "proxy refused"
	run -7 get -x "127.0.0.1:$(free_port)" "https://localhost:$port/"
	run -5 get -n -x "proxy.invalid:3128" "https://localhost:$port/"
}

@test "http get -x https://: TLS to the proxy (ncat --ssl), and the https URL's TLS inside it; --proxy-cacert, --proxy-insecure" {
	command -v ncat >/dev/null || skip "ncat is not installed"
	hs srv
	local pport
	pport=$(free_port)
	start_bg hproxy ncat -l 127.0.0.1 "$pport" --proxy-type http --ssl --ssl-cert "$PKI/good-chain.pem" \
		--ssl-key "$PKI/good.key"
	wait_listen "$pport"
	run -0 --separate-stderr get -v -x "https://localhost:$pport" --proxy-cacert "$CA" --cacert "$CA" \
		"https://localhost:$port/" "https://localhost:$port/digits.txt"
	assert_output "hello"$'\n'"0123456789abcdefghij"
	[[ $stderr == *"tunnel to localhost port $port open through the proxy"* ]]
	[ "$(grep -c 'TLS with localhost: TLSv1.3.*verified' <<<"$stderr")" -eq 2 ]
	# The proxy's certificate is checked with its own CA setting.
	run get -x "https://localhost:$pport" --cacert "$CA" "https://localhost:$port/"
	assert_failure
	assert_output --partial "TLS to the proxy"
	run -0 get -x "https://localhost:$pport" --proxy-insecure --cacert "$CA" "https://localhost:$port/"
	assert_output "hello"
	run -2 get -x "localhost:$pport" --proxy-insecure "https://localhost:$port/"
	assert_output --partial "are for an https:// proxy"
}
