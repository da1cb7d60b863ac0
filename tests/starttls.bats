#!/usr/bin/env bats
# connect --starttls PROTO: the plaintext preamble of each protocol
# against a scripted server (tests/starttls_peer.py, which answers as a
# real server of that kind does), then TLS verified with the test CA,
# then the relay; refusals, a server that does not offer it, bad input.
# sockctl: per-backend
load helpers
load tls_pki

setup_file() {
	pki_setup_file
}

teardown() {
	teardown_common
}

# peer PROTO [MODE]: the scripted server, its port in $port.
peer() {
	start_bg peer "$PY" "$BATS_TEST_DIRNAME/starttls_peer.py" "$1" "$PKI/good-chain.pem" \
		"$PKI/good.key" "${2:-}"
	wait_ready peer
}

st() {
	timeout "$T" "$SOCKCTL" connect --cacert "$PKI/root.pem" --starttls "$@"
}

@test "--starttls for every protocol: the preamble, TLS verified, then the relay both ways" {
	local p
	for p in smtp lmtp imap pop3 ftp xmpp postgres ldap; do
		peer "$p"
		run --separate-stderr st "$p" localhost "$port" <<<"hello $p"
		assert_success
		assert_output "HELLO ${p^^}"
		wait_exit "$peer_pid"
	done
	# What the client said before TLS, as those servers want it.
	peer smtp
	run --separate-stderr st smtp -v localhost "$port" </dev/null
	assert_success
	[[ $stderr == *"STARTTLS (smtp): the server agreed"* && $stderr == *"verified"* ]]
	wait_exit "$peer_pid"
	run cat "$BATS_TEST_TMPDIR/peer.err"
	assert_line --regexp "^client said: b'EHLO [^ ]+\\\\r\\\\n'$"
	assert_line "client said: b'STARTTLS\\r\\n'"
}

@test "--starttls: a server that refuses or does not offer it exits 64 with its reply" {
	local p
	for p in smtp imap pop3 ftp xmpp postgres ldap; do
		peer "$p" refuse
		run st "$p" localhost "$port" </dev/null
		assert_failure 64
		assert_output --partial "STARTTLS"
		wait_exit "$peer_pid"
	done
	peer smtp refuse
	run st smtp localhost "$port" </dev/null
	assert_failure 64
	assert_output --partial '"454 4.7.0 TLS not available due to local problem"'
	wait_exit "$peer_pid"
	peer smtp nooffer
	run st smtp localhost "$port" </dev/null
	assert_failure 64
	assert_output --partial "the server does not offer STARTTLS"
	wait_exit "$peer_pid"
	peer xmpp nooffer
	run st xmpp localhost "$port" </dev/null
	assert_failure 64
	assert_output --partial "does not offer STARTTLS in its features"
}

@test "--starttls: TLS after it is verified as --tls is (a wrong name fails with 60)" {
	peer smtp
	run st smtp --sni other.example 127.0.0.1 "$port" </dev/null
	assert_failure 60
	assert_output --partial "certificate verify failed"
}

@test "--starttls: a server that says nothing times out after --handshake-timeout" {
	start_bg mute "$SOCKCTL" serve -k --discard 127.0.0.1 0
	wait_ready mute
	run st smtp --handshake-timeout 0.3 127.0.0.1 "$port" </dev/null
	assert_failure 64
	assert_output --partial "STARTTLS (smtp): no answer from the server in 0.3 s"
}

@test "--starttls bad input: an unknown protocol, with -u" {
	run timeout "$T" "$SOCKCTL" connect --starttls http 127.0.0.1 1
	assert_failure 2
	assert_output --partial "unknown --starttls 'http' (give smtp, lmtp, imap, pop3, ftp, xmpp, postgres, ldap)"
	run timeout "$T" "$SOCKCTL" connect --starttls smtp -u 127.0.0.1 1
	assert_failure 2
	assert_output --partial "DTLS (-u) is not offered"
}
