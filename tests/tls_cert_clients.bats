#!/usr/bin/env bats
# The certificate report and the expiry check on the TLS clients other
# than connect (tests/tls_pin.bats has connect's): http get
# --cert-info[=json] and --expires-within on https URLs (http serve --tls
# and ncat --ssl as an https proxy), chat connect --tls with both (chat
# serve --tls). The certificates are the test CA's (tests/tls_pki.bash)
# and a leaf that expires in 10 days.
# sockctl: per-backend
load helpers

setup_file() {
	export PKI=$BATS_FILE_TMPDIR/pki
	# shellcheck source=tests/tls_pki.bash
	source "$BATS_TEST_DIRNAME/tls_pki.bash"
	(make_test_pki "$PKI")
	# A leaf that is valid for 10 more days, under the test root.
	(make_soon_leaf "$PKI")
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	CA=$PKI/root.pem
	GOOD=(--cert "$PKI/good-chain.pem" --key "$PKI/good.key")
	SOON=(--cert "$PKI/soon.pem" --key "$PKI/soon.key")
	mkdir -p www
	printf 'hello\n' >www/index.html
}

teardown() {
	[[ -z ${TM:-} ]] || "${TM[@]}" kill-server 2>/dev/null || true
	teardown_common
}

# hs NAME CERT-OPTIONS...: http serve --tls of ./www on port 0; $port.
hs() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" http serve -d "$BATS_TEST_TMPDIR/www" --tls "$@" 0
	wait_ready "$name"
}

# stop_servers: ends what the test started so far.
stop_servers() {
	teardown_common || true
}

# run_split CMD...: stdout in out.txt, stderr in err.txt, $status.
run_split() {
	status=0
	"$@" >out.txt 2>err.txt || status=$?
}

# json_lines FILE EXPR: EXPR (Python, over the list of the JSON objects
# that are FILE's lines starting with '{', as `r`).
json_lines() {
	$PY -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print(eval(sys.argv[2]))' "$1" "$2"
}

@test "http get --cert-info=json: one report per new TLS connection on stderr, the bodies on stdout" {
	hs soon "${SOON[@]}"
	local soon=$port
	hs good "${GOOD[@]}"
	local good=$port
	# Two URLs on one kept-alive connection, then another origin.
	run_split timeout $T "$SOCKCTL" http get --cacert "$CA" --cert-info=json "https://localhost:$soon/" \
		"https://localhost:$soon/" "https://localhost:$good/"
	[ "$status" -eq 0 ] || { cat err.txt; false; }
	[ "$(cat out.txt)" = "hello"$'\n'"hello"$'\n'"hello" ]
	[ "$(json_lines err.txt 'len(r)')" = 2 ]
	[ "$(json_lines err.txt 'r[0]["certificates"][0]["days_left"]')" = 9 ]
	[ "$(json_lines err.txt 'r[0]["verification"]["result"]')" = ok ]
	[ "$(json_lines err.txt 'r[0]["alpn"]')" = http/1.1 ]
	[ "$(json_lines err.txt 'r[0]["sni"]')" = localhost ]
	[ "$(json_lines err.txt 'r[1]["certificates"][1]["subject"]')" = "CN=Test Intermediate" ]
	# Nothing else on stderr: each report is one line.
	[ "$(wc -l <err.txt)" -eq 2 ]
	# Text, and -s does not silence what was asked for.
	run_split timeout $T "$SOCKCTL" http get -s --cacert "$CA" --cert-info "https://127.0.0.1:$soon/"
	[ "$status" -eq 0 ]
	[ "$(cat out.txt)" = hello ]
	grep -qx "  days left:     9 (valid)" err.txt
	grep -qx "  verification:  ok" err.txt
	grep -qx "  subject:       CN=localhost" err.txt
}

@test "http get --cert-info: a certificate that does not verify is reported, then fails 60 without a request" {
	hs soon "${SOON[@]}"
	run_split timeout $T "$SOCKCTL" http get --cacert "$PKI/other.pem" --cert-info=json "https://localhost:$port/"
	[ "$status" -eq 60 ]
	[ ! -s out.txt ]
	[ "$(json_lines err.txt 'r[0]["verification"]["result"]')" = failed ]
	[ "$(json_lines err.txt 'r[0]["verification"]["reason"]')" = "unable to get local issuer certificate" ]
	grep -q "certificate verify failed: unable to get local issuer certificate" err.txt
	# A pin that matches no key: 90, reported as such.
	run_split timeout $T "$SOCKCTL" http get --cacert "$CA" --cert-info=json \
		--pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" "https://localhost:$port/"
	[ "$status" -eq 90 ]
	json_lines err.txt 'r[0]["verification"]["reason"]' | grep -q "^public key pin mismatch"
	# The server saw no request.
	! grep -q '"GET ' soon.out || false
}

@test "http get --expires-within DAYS: exit 110 before the request; each new connection checked" {
	hs soon "${SOON[@]}"
	local soon=$port
	hs good "${GOOD[@]}"
	local good=$port
	run_split timeout $T "$SOCKCTL" http get --cacert "$CA" --expires-within 14 "https://localhost:$soon/"
	[ "$status" -eq 110 ]
	[ ! -s out.txt ]
	grep -qx "sockctl: https://localhost:$soon/: the server's certificate expires within 14 days (9 whole days left)" err.txt
	! grep -q '"GET ' soon.out || false
	# Further off than DAYS: fetched.
	run -0 timeout $T "$SOCKCTL" http get --cacert "$CA" --expires-within 9 "https://localhost:$soon/"
	assert_output hello
	# Several URLs: the first origin passes, the second's connection fails
	# the check; the exit status is that failure's.
	run_split timeout $T "$SOCKCTL" http get --cacert "$CA" --expires-within 14 "https://localhost:$good/" \
		"https://localhost:$soon/" "https://localhost:$good/"
	[ "$status" -eq 110 ]
	[ "$(cat out.txt)" = "hello"$'\n'"hello" ]
	[ "$(grep -c 'expires within 14 days' err.txt)" -eq 1 ]
	# -Z: each slot's connection is checked.
	run_split timeout $T "$SOCKCTL" http get -Z --cacert "$CA" --expires-within 14 "https://localhost:$soon/" \
		"https://localhost:$good/"
	[ "$status" -eq 110 ]
	[ "$(cat out.txt)" = hello ]
	# Expired: verification fails first (60); with -k the expiry counts.
	stop_servers
	hs exp --cert "$PKI/expired.pem" --key "$PKI/expired.key"
	run -60 timeout $T "$SOCKCTL" http get --cacert "$CA" --expires-within 0 "https://localhost:$port/"
	run -110 timeout $T "$SOCKCTL" http get -k --expires-within 0 "https://localhost:$port/"
	assert_output "sockctl: https://localhost:$port/: the server's certificate has expired"
	# -w %{exitcode} sees it, as any failure.
	run -110 timeout $T "$SOCKCTL" http get -s -k --expires-within 0 -w '%{exitcode}\n' "https://localhost:$port/"
	assert_output 110
}

@test "http get -x https:// --cert-info, --expires-within: the target's certificate, not the proxy's" {
	command -v ncat >/dev/null || skip "ncat is not installed"
	hs good "${GOOD[@]}"
	local pport
	pport=$(free_port)
	# The proxy's certificate is the one that expires soon.
	start_bg hproxy ncat -l 127.0.0.1 "$pport" --proxy-type http --ssl --ssl-cert "$PKI/soon.pem" \
		--ssl-key "$PKI/soon.key"
	wait_listen "$pport"
	run_split timeout $T "$SOCKCTL" http get -x "https://localhost:$pport" --proxy-cacert "$CA" --cacert "$CA" \
		--cert-info=json --expires-within 14 "https://localhost:$port/"
	[ "$status" -eq 0 ] || { cat err.txt; false; }
	[ "$(cat out.txt)" = hello ]
	[ "$(json_lines err.txt 'len(r)')" = 1 ]
	[ "$(json_lines err.txt 'r[0]["certificates"][1]["subject"]')" = "CN=Test Intermediate" ]
	[ "$(json_lines err.txt 'r[0]["certificates"][0]["days_left"]')" -ge 18 ]
}

@test "chat connect --tls --cert-info: the report on stderr after the handshake, then the chat as usual" {
	start_bg srv "$SOCKCTL" chat serve --tls "${SOON[@]}" 0
	wait_ready srv
	run_split bash -c "echo 'hello there' | timeout $T '$SOCKCTL' chat connect --tls --cacert '$CA' \
		--cert-info=json -N ann localhost $port"
	[ "$status" -eq 0 ] || { cat err.txt; false; }
	grep -q "you are now ann" out.txt
	wait_file_contains srv.out "<ann> hello there"
	[ "$(json_lines err.txt 'len(r)')" = 1 ]
	[ "$(json_lines err.txt 'r[0]["certificates"][0]["days_left"]')" = 9 ]
	[ "$(json_lines err.txt 'r[0]["verification"]["result"]')" = ok ]
	run_split bash -c "echo hi | timeout $T '$SOCKCTL' chat connect --tls --cacert '$CA' --cert-info localhost $port"
	[ "$status" -eq 0 ]
	grep -qx "  days left:     9 (valid)" err.txt
	# Not verified: reported, then 60, and no line reached the room.
	run_split bash -c "echo 'never seen' | timeout $T '$SOCKCTL' chat connect --tls --cacert '$PKI/other.pem' \
		--cert-info=json localhost $port"
	[ "$status" -eq 60 ]
	[ "$(json_lines err.txt 'r[0]["verification"]["result"]')" = failed ]
	! grep -q "never seen" srv.out || false
}

@test "chat connect --tls --expires-within DAYS: exit 110 before joining; further off, the chat" {
	start_bg srv "$SOCKCTL" chat serve --tls "${SOON[@]}" 0
	wait_ready srv
	run_split bash -c "echo 'never seen' | timeout $T '$SOCKCTL' chat connect --tls --cacert '$CA' \
		--expires-within 14 -N early localhost $port"
	[ "$status" -eq 110 ]
	grep -qx "sockctl: localhost:$port: the server's certificate expires within 14 days (9 whole days left)" err.txt
	run -0 bash -c "echo 'seen' | timeout $T '$SOCKCTL' chat connect --tls --cacert '$CA' \
		--expires-within 9 -N late localhost $port"
	assert_output --partial "you are now late"
	wait_file_contains srv.out "<late> seen"
	! grep -q "never seen" srv.out || false
	! grep -q "early" srv.out || false
}

@test "chat connect --tls --cert-info on a terminal: the report, then the prompt, and the chat works" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	start_bg srv "$SOCKCTL" chat serve --tls "${SOON[@]}" 0
	wait_ready srv
	# A private tmux server (teardown ends it): nothing shared with the user's.
	TM=(tmux -u -L "sockctl-cert-$$-$BATS_TEST_NUMBER" -f /dev/null)
	local i
	"${TM[@]}" new-session -d -x 100 -y 40 \
		"env LANG=C.UTF-8 TERM=xterm timeout --foreground $T '$SOCKCTL' chat connect --tls --cacert '$CA' --cert-info --color=never -N ann localhost $port; sleep 30"
	for ((i = 0; i < T * 20; i++)); do
		"${TM[@]}" capture-pane -p >screen.txt
		grep -q "you are now ann" screen.txt && break
		sleep 0.05
	done
	"${TM[@]}" send-keys -l "typed at the prompt"
	"${TM[@]}" send-keys Enter
	wait_file_contains srv.out "<ann> typed at the prompt"
	"${TM[@]}" capture-pane -p >screen.txt
	# The report came first, whole, above the chat.
	grep -qx "  days left:     9 (valid)" screen.txt
	grep -qx "  verification:  ok" screen.txt
	[ "$(grep -n "days left" screen.txt | cut -d: -f1)" -lt "$(grep -n "you are now ann" screen.txt | cut -d: -f1)" ]
}
