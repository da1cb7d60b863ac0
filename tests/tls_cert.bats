#!/usr/bin/env bats
# The certificate module against the peers that check certificates: a
# temporary certificate verifies with `openssl verify` and with curl
# (--cacert and --pinnedpubkey) against openssl s_server serving it, its
# pin is the openssl pipeline's, and the JSON report parses.

load helpers

setup() {
	TOOL=$(dirname "$SOCKCTL")/tests/unit/tls_cert_tool
	SRC=${SOCKCTL_SRCDIR:-$BATS_TEST_DIRNAME/..}
	D=$BATS_TEST_TMPDIR
}

# pipeline_pin CERT: the pin as curl's documentation computes it.
pipeline_pin() {
	echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)"
}

# s_server_bg: openssl s_server on 127.0.0.1 with $D/cert.pem and
# $D/key.pem; sets $port from its ACCEPT line.
s_server_bg() {
	start_bg s openssl s_server -accept 127.0.0.1:0 -cert "$D/cert.pem" -key "$D/key.pem" -www
	wait_file_contains "$D/s.out" ACCEPT 10
	port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$D/s.out")
	[[ -n $port ]]
}

@test "temporary certificate: openssl verify -partial_chain, as a server for its names" {
	run "$TOOL" temp "$D"
	assert_success
	run openssl verify -partial_chain -CAfile "$D/cert.pem" "$D/cert.pem"
	assert_success
	assert_output "$D/cert.pem: OK"
	run openssl verify -partial_chain -purpose sslserver -verify_hostname localhost \
		-CAfile "$D/cert.pem" "$D/cert.pem"
	assert_success
	run openssl verify -partial_chain -purpose sslserver -verify_ip ::1 \
		-CAfile "$D/cert.pem" "$D/cert.pem"
	assert_success
	run openssl verify -partial_chain -verify_hostname other.example \
		-CAfile "$D/cert.pem" "$D/cert.pem"
	assert_failure
	assert_output --partial "hostname mismatch"
}

@test "temporary certificate: its pin is the openssl pipeline's" {
	run "$TOOL" temp "$D"
	assert_success
	assert_output "$(pipeline_pin "$D/cert.pem")"
	run "$TOOL" pin "$SRC/tests/data/tls_fixed.pem"
	assert_success
	assert_output "$(pipeline_pin "$SRC/tests/data/tls_fixed.pem")"
	assert_output "$(cat "$SRC/tests/data/tls_fixed.pin")"
}

@test "curl --pinnedpubkey takes the pin of a temporary certificate, refuses another" {
	pin=$("$TOOL" temp "$D")
	s_server_bg
	run timeout "$T" curl -sS -k --pinnedpubkey "$pin" -o /dev/null "https://127.0.0.1:$port/"
	assert_success
	# Verified as well as pinned: the certificate as its own CA.
	run timeout "$T" curl -sS --cacert "$D/cert.pem" --pinnedpubkey "$pin" -o /dev/null \
		"https://127.0.0.1:$port/"
	assert_success
	run timeout "$T" curl -sS --cacert "$D/cert.pem" -o /dev/null \
		--resolve "localhost:$port:127.0.0.1" "https://localhost:$port/"
	assert_success
	other=$(cat "$SRC/tests/data/tls_fixed.pin")
	run timeout "$T" curl -sS -k --pinnedpubkey "$other" -o /dev/null "https://127.0.0.1:$port/"
	assert_equal "$status" 90
	# A set in curl's ';' syntax (the same syntax --pin takes).
	run timeout "$T" curl -sS -k --pinnedpubkey "$other;$pin" -o /dev/null \
		"https://127.0.0.1:$port/"
	assert_success
}

@test "certificate report: the JSON parses and says what openssl says" {
	"$TOOL" temp "$D" >/dev/null
	cat "$SRC/tests/data/tls_fixed.pem" "$D/cert.pem" >"$D/chain.pem"
	run "$TOOL" info "$D/chain.pem" json
	assert_success
	echo "$output" >"$D/info.json"
	"$PY" - "$D/info.json" "$(pipeline_pin "$D/cert.pem")" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["certificates"]
assert d["version"] == "TLSv1.3" and d["verification"]["result"] == "ok", d
assert len(c) == 2, c
assert c[0]["subject"] == "CN=fixed.test,O=sockctl tests", c[0]
assert c[0]["dns"] == ["fixed.test", "*.fixed.test"], c[0]
assert c[0]["ip"] == ["192.0.2.1", "2001:db8::1"], c[0]
assert c[0]["serial"] == "1234ABCD" and c[0]["key_bits"] == 256, c[0]
assert c[1]["pin"] == sys.argv[2], (c[1]["pin"], sys.argv[2])
assert c[1]["dns"] == ["localhost"] and c[1]["ip"] == ["127.0.0.1", "::1"], c[1]
assert c[1]["days_left"] in (29, 30) and c[1]["status"] == "valid", c[1]
PYEOF
	# The dates are openssl's, in ISO 8601.
	end=$(openssl x509 -in "$D/cert.pem" -noout -enddate -dateopt iso_8601 | sed 's/^notAfter=//')
	run "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificates"][1]["not_after"])' "$D/info.json"
	assert_output "$(echo "$end" | sed 's/ /T/')"
	run "$TOOL" info "$D/chain.pem" text
	assert_success
	assert_line "  DNS names:     fixed.test, *.fixed.test"
	assert_line "  serial:        1234ABCD"
}
