#!/usr/bin/env bats
# SPKI pins (connect --tls --pin), the temporary certificate of serve --tls
# without --cert (its pin on the readiness line), and the certificate report
# (connect --tls --cert-info[=json], --expires-within), against the test CA
# of tests/tls_pki.bash and real peers (curl --pinnedpubkey, openssl
# s_client).
load helpers
load tls_pki

setup_file() {
	pki_setup_file
	# A leaf that is valid for 10 more days, under the test root.
	(make_soon_leaf "$PKI")
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	pki_vars
	# A well-formed pin of no key in use.
	NOPIN="sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
}

teardown() {
	teardown_common
}

# pin_of_file CERT: the pin as curl's documentation computes it.
pin_of_file() {
	echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)"
}

# ready_pin NAME: the pin on NAME's readiness line, in $pin.
ready_pin() {
	pin=$(sed -n 's/.*listening on .*, tls pin \(sha256\/\/[A-Za-z0-9+/=]*\))$/\1/p' "$1.err")
	[[ -n $pin ]] || { cat "$1.err" >&2; return 1; }
}

@test "serve --tls without --cert: a temporary certificate, its pin on the readiness line; connect --pin verifies it" {
	serve_bg srv -k --tls --respond 'hello\n' 127.0.0.1
	ready_pin srv
	# The port is read from the line as always (helpers.bash).
	grep -q "listening on 127.0.0.1:$port (tcp, mux=[a-z]*, tls pin sha256//" srv.err
	for host in 127.0.0.1 localhost; do
		run timeout $T "$SOCKCTL" connect -v --tls --pin "$pin" "$host" "$port" </dev/null
		assert_success
		assert_line hello
		assert_line --partial "peer CN=sockctl temporary, verified, pin matched"
	done
	# Its name is checked too: the certificate is not for other.example.
	run timeout $T "$SOCKCTL" connect --tls --pin "$pin" --sni other.example 127.0.0.1 "$port" </dev/null
	[ "$status" -eq 60 ]
	assert_output --partial "hostname mismatch"
	# Without the pin nothing vouches for it.
	run timeout $T "$SOCKCTL" connect --tls 127.0.0.1 "$port" </dev/null
	[ "$status" -eq 60 ]
	# The wrong pin: 90, also with -k.
	for k in "" -k; do
		run timeout $T "$SOCKCTL" connect --tls $k --pin "$NOPIN" 127.0.0.1 "$port" </dev/null
		[ "$status" -eq 90 ] || { echo "$k: $status $output"; false; }
		assert_output "sockctl: TLS handshake with 127.0.0.1 failed: public key pin mismatch (the server's key is $pin)"
	done
	# openssl s_client sees the same key, and the certificate verifies
	# as its own anchor for the address.
	echo | timeout $T openssl s_client -connect "127.0.0.1:$port" 2>/dev/null |
		openssl x509 >cert.pem
	[ "$(pin_of_file cert.pem)" = "$pin" ]
	run bash -c "echo | timeout $T openssl s_client -connect 127.0.0.1:$port -verify_return_error \
		-partial_chain -CAfile cert.pem -verify_ip 127.0.0.1 2>&1"
	assert_success
	assert_output --partial "Verify return code: 0 (ok)"
	# curl pins it too (curl needs -k for a certificate no CA signed).
	run timeout $T curl -sS --http0.9 -k --pinnedpubkey "$pin" "https://127.0.0.1:$port/"
	assert_success
	assert_output hello
	run timeout $T curl -sS --http0.9 -k --pinnedpubkey "$NOPIN" "https://127.0.0.1:$port/"
	[ "$status" -eq 90 ]
}

@test "the temporary certificate: SANs of the bound address, localhost and the host name; one certificate for every worker; IPv6" {
	serve_bg srv -k --tls --workers 2 --respond w 127.0.0.1
	ready_pin srv
	echo | timeout $T openssl s_client -connect "127.0.0.1:$port" 2>/dev/null | openssl x509 >cert.pem
	run openssl x509 -in cert.pem -noout -ext subjectAltName
	assert_output --partial "DNS:localhost"
	assert_output --partial "IP Address:127.0.0.1"
	assert_output --partial "DNS:$(hostname)"
	# Connections spread over the workers: every one shows the same pin.
	for i in 1 2 3 4 5 6; do
		run timeout $T "$SOCKCTL" connect --tls --pin "$pin" 127.0.0.1 "$port" </dev/null
		assert_success
		assert_output w
	done
	if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/'; then
		serve_bg v6 --tls --respond six ::1
		ready_pin v6
		run timeout $T "$SOCKCTL" connect --tls --pin "$pin" ::1 "$port" </dev/null
		assert_success
		assert_output six
	fi
}

@test "--pin against a CA-signed server: the chain is verified against --cacert, the pin still required; several pins" {
	serve_bg srv -k --tls "${GOOD[@]}" --respond x
	good=$(pin_of_file "$PKI/good.pem")
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --pin "$good" localhost "$port" </dev/null
	assert_success
	assert_output x
	# A chain that verifies does not excuse a pin that does not match.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --pin "$NOPIN" localhost "$port" </dev/null
	[ "$status" -eq 90 ]
	assert_output --partial "public key pin mismatch (the server's key is $good)"
	# Several: repeated or ';'-separated; any one matching is enough.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --pin "$NOPIN" --pin "$good" localhost "$port" </dev/null
	assert_success
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --pin "$NOPIN;$good" localhost "$port" </dev/null
	assert_success
	# With --cacert the chain must reach that CA too, pin or not.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$PKI/other.pem" --pin "$good" localhost "$port" </dev/null
	[ "$status" -eq 60 ]
	assert_output --partial "unable to get local issuer certificate"
	# Without it the pinned key stands for the CA (the test CA is in no
	# system store).
	run timeout $T "$SOCKCTL" connect --tls --pin "$good" localhost "$port" </dev/null
	assert_success
	assert_output x
	# Only the leaf's key counts: the intermediate's pin is not the server's.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --pin "$(pin_of_file "$PKI/inter.pem")" \
		localhost "$port" </dev/null
	[ "$status" -eq 90 ]
	teardown_common || true
	# A pinned certificate that has expired still fails its dates.
	serve_bg exp --tls --cert "$PKI/expired.pem" --key "$PKI/expired.key" --respond x
	run timeout $T "$SOCKCTL" connect --tls --pin "$(pin_of_file "$PKI/expired.pem")" localhost "$port" </dev/null
	[ "$status" -eq 60 ]
	assert_output --partial "certificate has expired"
	# ... unless -k, where only the pin is checked.
	run timeout $T "$SOCKCTL" connect --tls -k --pin "$(pin_of_file "$PKI/expired.pem")" localhost "$port" </dev/null
	assert_success
	assert_output x
}

@test "serve --tls --cert: an expired or not yet valid certificate is served with one warning line; --key needs --cert" {
	serve_bg srv --tls --cert "$PKI/expired.pem" --key "$PKI/expired.key" --respond x
	run grep -c "warning" srv.err
	assert_output 1
	grep -q "^sockctl: warning: TLS: $PKI/expired.pem: the certificate expired on 20" srv.err
	# No pin on the line: the certificate is the user's.
	run grep "tls pin" srv.err
	assert_failure
	serve_bg fut --tls --cert "$PKI/future.pem" --key "$PKI/future.key" --respond x
	grep -q "^sockctl: warning: TLS: $PKI/future.pem: the certificate is not valid before 20" fut.err
	# The good one: no warning.
	serve_bg ok --tls "${GOOD[@]}" --respond x
	run grep warning ok.err
	assert_failure
	# The key in the certificate's file.
	cat "$PKI/good.pem" "$PKI/good.key" >both.pem
	serve_bg both --tls --cert both.pem --respond y
	run timeout $T "$SOCKCTL" connect --tls -k localhost "$port" </dev/null
	assert_success
	assert_output y
	run "$SOCKCTL" serve --tls --key "$PKI/good.key" 0
	[ "$status" -eq 2 ]
	assert_output "sockctl serve: --key needs --cert (see 'sockctl serve --help')"
}

@test "bad pins: one line, exit 2" {
	for p in "sha256//bad" "sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" "$NOPIN;" \
		"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; do
		run "$SOCKCTL" connect --tls --pin "$p" localhost 1
		[ "$status" -eq 2 ] || { echo "'$p': $status $output"; false; }
		[ "${#lines[@]}" -eq 1 ]
		assert_output --regexp "^sockctl connect: invalid --pin: .* \(see 'sockctl connect --help'\)$"
	done
	run "$SOCKCTL" connect --tls --pin "" localhost 1
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	run "$SOCKCTL" connect --pin "$NOPIN" localhost 1
	[ "$status" -eq 2 ]
	assert_output "sockctl connect: --pin needs --tls (see 'sockctl connect --help')"
	run "$SOCKCTL" serve --tls --pin "$NOPIN" 0
	[ "$status" -eq 2 ]
}

# run_split CMD...: runs CMD with stdout in out.json and stderr in
# err.txt (kept apart: the report is stdout's), its exit status in $status.
run_split() {
	status=0
	"$@" >out.json 2>err.txt || status=$?
}

# json_get FILE EXPR: EXPR (Python, over the object as `d`) of the one
# JSON object in FILE; fails unless FILE is exactly one JSON document.
json_get() {
	$PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

@test "--cert-info=json: the handshake and the chain as one JSON object, without the relay and with stdin still open" {
	serve_bg srv -k --tls "${GOOD[@]}" --alpn h2 --respond never-shown
	mkfifo in.fifo
	exec 9<>in.fifo # stdin stays open: the report must not wait for its end
	run_split timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --alpn h2 --cert-info=json localhost "$port" \
		<in.fifo
	exec 9>&-
	[ "$status" -eq 0 ] || { cat err.txt; false; }
	[ ! -s err.txt ]
	[ "$(wc -l <out.json)" -eq 1 ]
	$PY -m json.tool out.json >/dev/null
	[ "$(json_get out.json 'd["version"]')" = TLSv1.3 ]
	[ "$(json_get out.json 'd["alpn"]')" = h2 ]
	[ "$(json_get out.json 'd["sni"]')" = localhost ]
	[ "$(json_get out.json 'd["verification"]')" = "{'result': 'ok', 'reason': None}" ]
	[ "$(json_get out.json 'len(d["certificates"])')" = 2 ]
	[ "$(json_get out.json 'd["certificates"][0]["subject"]')" = CN=localhost ]
	[ "$(json_get out.json 'd["certificates"][1]["subject"]')" = "CN=Test Intermediate" ]
	[ "$(json_get out.json 'd["certificates"][0]["pin"]')" = "$(pin_of_file "$PKI/good.pem")" ]
	[ "$(json_get out.json 'd["certificates"][0]["ip"]')" = "['127.0.0.1', '::1']" ]
	if command -v jq >/dev/null; then
		jq -e '.verification.result == "ok" and .certificates[0].status == "valid"' out.json
	fi
	# No SNI for an address; -k: not verified, said so.
	run timeout $T "$SOCKCTL" connect --tls -k --cert-info=json 127.0.0.1 "$port" </dev/null
	assert_success
	echo "$output" >k.json
	[ "$(json_get k.json 'd["sni"]')" = None ]
	[ "$(json_get k.json 'd["verification"]["result"]')" = skipped ]
}

@test "--cert-info: the text report; a verification or pin failure is reported, then exits 60 or 90" {
	serve_bg srv -k --tls "${GOOD[@]}" --respond never-shown
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert-info localhost "$port" </dev/null
	assert_success
	assert_line "  verification:  ok"
	assert_line "  SNI sent:      localhost"
	assert_line "certificate 0:"
	assert_line "certificate 1:"
	assert_line "  subject:       CN=Test Intermediate"
	refute_output --partial never-shown
	# Another CA: the report still comes, with the reason, and exit 60.
	run_split timeout $T "$SOCKCTL" connect --tls --cacert "$PKI/other.pem" --cert-info=json localhost "$port" \
		</dev/null
	[ "$status" -eq 60 ]
	[ "$(json_get out.json 'd["verification"]["result"]')" = failed ]
	[ "$(json_get out.json 'd["verification"]["reason"]')" = "unable to get local issuer certificate" ]
	[ "$(json_get out.json 'd["certificates"][0]["subject"]')" = CN=localhost ]
	grep -q "certificate verify failed: unable to get local issuer certificate" err.txt
	# A pin that does not match: 90, the report says so.
	run_split timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --pin "$NOPIN" --cert-info=json localhost "$port" \
		</dev/null
	[ "$status" -eq 90 ]
	[ "$(json_get out.json 'd["verification"]["result"]')" = failed ]
	json_get out.json 'd["verification"]["reason"]' | grep -q "^public key pin mismatch"
	# The name: checked against --sni, reported.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --sni other.example --cert-info 127.0.0.1 "$port" </dev/null
	[ "$status" -eq 60 ]
	assert_line "  verification:  failed (hostname mismatch)"
}

@test "--expires-within DAYS: exit 110 when the server's certificate expires that soon, with --cert-info and without" {
	serve_bg soon -k --tls --cert "$PKI/soon.pem" --key "$PKI/soon.key" --respond 'relayed\n'
	run_split timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert-info=json --expires-within 14 localhost "$port" \
		</dev/null
	[ "$status" -eq 110 ]
	[ "$(json_get out.json 'd["certificates"][0]["days_left"]')" = 9 ]
	grep -qx "sockctl: 127.0.0.1:$port: the server's certificate expires within 14 days (9 whole days left)" err.txt
	# Without --cert-info: checked before the relay, nothing relayed.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --expires-within 14 localhost "$port" </dev/null
	[ "$status" -eq 110 ]
	refute_output --partial relayed
	# Further off than DAYS: the relay as usual.
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --expires-within 9 localhost "$port" </dev/null
	assert_success
	assert_output relayed
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert-info --expires-within 5 localhost "$port" </dev/null
	assert_success
	assert_line "  days left:     9 (valid)"
	teardown_common || true
	# Expired: verification fails first (60); with -k the expiry counts (110).
	serve_bg exp -k --tls --cert "$PKI/expired.pem" --key "$PKI/expired.key" --respond x
	run timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --expires-within 0 localhost "$port" </dev/null
	[ "$status" -eq 60 ]
	run timeout $T "$SOCKCTL" connect --tls -k --expires-within 0 localhost "$port" </dev/null
	[ "$status" -eq 110 ]
	assert_output "sockctl: 127.0.0.1:$port: the server's certificate has expired"
	run_split timeout $T "$SOCKCTL" connect --tls --cacert "$CA" --cert-info=json localhost "$port" \
		</dev/null
	[ "$status" -eq 60 ]
	[ "$(json_get out.json 'd["verification"]["reason"]')" = "certificate has expired" ]
	[ "$(json_get out.json 'd["certificates"][0]["status"]')" = expired ]
}

@test "bad --cert-info and --expires-within: one line, exit 2" {
	for c in "--tls --cert-info=xml:invalid --cert-info 'xml': give json or text" \
		"--cert-info:--cert-info needs --tls" "--expires-within 3:--expires-within needs --tls" \
		"--tls --expires-within -1:invalid --expires-within '-1': give days, 0-100000" \
		"--tls --expires-within soon:invalid --expires-within 'soon': give days, 0-100000" \
		"--tls --cert-info -e cat:--cert-info prints and exits: no --exec"; do
		args=${c%%:*} want=${c#*:}
		run "$SOCKCTL" connect $args localhost 1
		[ "$status" -eq 2 ] || { echo "$args: $status $output"; false; }
		assert_output "sockctl connect: $want (see 'sockctl connect --help')"
	done
}
