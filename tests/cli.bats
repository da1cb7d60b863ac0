#!/usr/bin/env bats
# The command line itself: help, version, unknown things, --mux.
load helpers

@test "--version prints the version" {
	run "$SOCKCTL" --version
	assert_success
	assert_output --regexp '^sockctl [0-9]+\.[0-9]+'
}

@test "--help lists the commands and exits 0" {
	run "$SOCKCTL" --help
	assert_success
	assert_output --partial "Commands:"
}

@test "no command is a usage error" {
	run "$SOCKCTL"
	assert_failure 2
}

@test "unknown command: one line, exit 2" {
	run --separate-stderr "$SOCKCTL" frobnicate
	assert_failure 2
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"unknown command 'frobnicate'"* ]]
}

@test "unknown global option: one line, exit 2" {
	run --separate-stderr "$SOCKCTL" --frob
	assert_failure 2
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"unknown option '--frob'"* ]]
}

@test "--mux=help lists auto and the compiled backends" {
	run "$SOCKCTL" --mux=help
	assert_success
	assert_line auto
	assert_line select
	assert_line poll
}

@test "unknown --mux backend is a usage error naming the choices" {
	run --separate-stderr "$SOCKCTL" --mux=kqueue help
	assert_failure 2
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"unknown mux backend 'kqueue' (available: auto, "*select* ]]
}

@test "SOCKCTL_MUX picks the default backend and is checked too" {
	SOCKCTL_MUX=bogus run --separate-stderr "$SOCKCTL" help
	assert_failure 2
	[[ $stderr == *"unknown mux backend 'bogus'"* ]]
}

@test "--version after a command name, and --quiet is the global quiet everywhere" {
	local c
	for c in serve connect udp-send resolve "chat serve" "chat connect" "http serve" \
		"http get"; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$T" "$SOCKCTL" $c --version
		assert_success
		assert_output --regexp '^sockctl [0-9]+\.[0-9]+'
		[ -z "$stderr" ]
	done
	# connect and serve give -q a value (quit after); --quiet stays quiet.
	serve_bg srv --quiet --echo -k
	run --separate-stderr timeout "$T" "$SOCKCTL" connect --quiet 127.0.0.1 "$port" <<<"hi"
	assert_success
	assert_output "hi"
	run --separate-stderr timeout "$T" "$SOCKCTL" udp-send --quiet -w 0.1 127.0.0.1 1 x
	[[ $stderr != *"(null)"* ]]
}

@test "HOST:PORT, [IPV6]:PORT, [IPV6] PORT and ::1 PORT, for clients and listeners" {
	serve_bg v4 --echo -k 127.0.0.1 0
	local p4=$port
	start_bg v6 "$SOCKCTL" serve --echo -k '[::1]:0'
	wait_ready v6
	assert_equal "$addr" "[::1]:$port"
	local p6=$port a
	run timeout "$T" "$SOCKCTL" connect "127.0.0.1:$p4" <<<"four"
	assert_output "four"
	for a in "[::1]:$p6" "[::1] $p6" "::1 $p6" "-6 [::1]:$p6"; do
		# shellcheck disable=SC2086
		run timeout "$T" "$SOCKCTL" connect $a <<<"six"
		assert_success
		assert_output "six"
	done
	start_bg l1 "$SOCKCTL" serve --upper '127.0.0.1:0'
	wait_ready l1
	assert_equal "$addr" "127.0.0.1:$port"
	run timeout "$T" "$SOCKCTL" connect "127.0.0.1:$port" <<<"one word"
	assert_output "ONE WORD"
	start_bg l2 "$SOCKCTL" serve --upper '[::1]' 0
	wait_ready l2
	assert_equal "$addr" "[::1]:$port"
	# Datagrams, the chat client and http serve take the same forms.
	start_bg u6 "$SOCKCTL" serve -u --echo '[::1]:0'
	wait_ready u6
	run timeout "$T" "$SOCKCTL" udp-send -w 5 --replies 1 "[::1]:$port" ping
	assert_success
	assert_output "ping"
	run timeout "$T" "$SOCKCTL" udp-send -w 5 --replies 1 "[::1]" "$port" pong
	assert_output "pong"
	start_bg chat "$SOCKCTL" chat serve '127.0.0.1:0'
	wait_ready chat
	run timeout "$T" "$SOCKCTL" chat connect "127.0.0.1:$port" <<<"/quit"
	assert_success
	assert_output --partial "*** bye"
	start_bg web "$SOCKCTL" http serve --respond --body hello '[::1]:0'
	wait_ready web
	run timeout "$T" "$SOCKCTL" http get "http://[::1]:$port/"
	assert_output "hello"
}

@test "connect -z takes several port words" {
	serve_bg srv --echo -k
	local closed
	closed=$(free_port)
	run timeout "$T" "$SOCKCTL" connect -z 127.0.0.1 "$port" "$closed"
	assert_success
	assert_line --index 0 "127.0.0.1 $port open"
	assert_line --index 1 "127.0.0.1 $closed closed"
	run timeout "$T" "$SOCKCTL" connect -z "127.0.0.1:$closed,$port"
	assert_success
	assert_line --index 1 "127.0.0.1 $port open"
}
