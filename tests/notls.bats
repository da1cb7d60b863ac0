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
	# Every other command's TLS options, and the options that imply TLS.
	local cmd
	for args in "connect|--pin sha256//x 127.0.0.1 1" "connect|--starttls smtp 127.0.0.1 1" \
		"connect|--cert-info 127.0.0.1 1" "connect|--expires-within 3 127.0.0.1 1" "resolve|--tls --server 127.0.0.1 x" \
		"chat serve|--tls 0" "chat connect|--tls 127.0.0.1 1" "http serve|--tls 0" \
		"http get|--cacert x https://127.0.0.1:1/" "wait|--cacert x https://127.0.0.1:1/" \
		"http get|--cert-info https://127.0.0.1:1/" "http get|--expires-within 3 https://127.0.0.1:1/" \
		"chat connect|--cert-info --tls 127.0.0.1 1" "chat connect|--expires-within 3 127.0.0.1 1" \
		"forward|--tls 0 127.0.0.1 1" "forward|--target-tls 0 127.0.0.1 1"; do
		cmd=${args%%|*}
		# shellcheck disable=SC2086
		run --separate-stderr "$SOCKCTL" $cmd ${args#*|} </dev/null
		[ "$status" -eq 2 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "sockctl $cmd: --"*": this build has no TLS" ]]
	done
	# An https URL is a transfer that cannot be made: curl's exit 1.
	run --separate-stderr "$SOCKCTL" http get https://127.0.0.1:1/
	[ "$status" -eq 1 ]
	[[ $stderr == *"TLS: this build has no TLS" ]]
}

@test "without TLS: plain connections work" {
	serve_bg srv --echo
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<"plain"
	assert_success
	assert_output "plain"
}

@test "without TLS: --version says TLS: no, as text and as JSON" {
	run --separate-stderr "$SOCKCTL" --version
	assert_success
	assert_line "tls: no"
	assert_line "tls-build: no"
	assert_line "ktls: no"
	run --separate-stderr "$SOCKCTL" --version --json
	assert_success
	run "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["tls"], d["tls-build"], d["ktls"])' "$output"
	assert_output "False False False"
}
