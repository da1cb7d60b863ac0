#!/usr/bin/env bats
# A build without OpenSSL (configure --without-openssl): every TLS option
# is refused with one line and exit 2, before anything listens or
# connects; the rest works.
load helpers

@test "without TLS: each TLS option is one line, exit 2" {
	for args in "connect --tls 127.0.0.1 1" "connect --cacert x --tls 127.0.0.1 1" \
		"connect -k 127.0.0.1 1" "serve --tls --cert x --key y 0" "serve --client-ca x 0"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$SOCKCTL" $args </dev/null
		[ "$status" -eq 2 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "sockctl ${args%% *}: --"*": this build has no TLS" ]]
	done
	run --separate-stderr "$SOCKCTL" connect --tls 127.0.0.1 1
	[ "$stderr" = "sockctl connect: --tls: this build has no TLS" ]
}

@test "without TLS: plain connections work" {
	serve_bg srv --echo
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"plain"
	assert_success
	assert_output "plain"
}
