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
