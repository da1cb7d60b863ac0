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
