#!/usr/bin/env bats
# Bad input: one clear line on stderr and the documented exit status.
load helpers

# expect_usage ARGS...: exit 2 with one line on stderr.
expect_error() {
	local code=$1 pattern=$2
	shift 2
	run --separate-stderr timeout $T "$SOCKCTL" "$@" </dev/null
	[ "$status" -eq "$code" ] || fail "exit $status, wanted $code: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "wanted one line, got: $stderr"
	[[ $stderr == *"$pattern"* ]] || fail "wanted '$pattern' in: $stderr"
	[ -z "$output" ] || fail "stdout not empty: $output"
}

@test "unknown options" {
	expect_error 2 "unknown option '--frob'" connect --frob 127.0.0.1 80
	expect_error 2 "unknown option '-Z'" serve -Z 0
	expect_error 2 "sockctl serve:" serve --frob 0
	# After the operands, the message names the option, not an operand.
	expect_error 2 "unknown option '--frob'" connect 127.0.0.1 80 --frob
	expect_error 2 "option '--nodelay' takes no value" connect 127.0.0.1 80 --nodelay=1
	expect_error 2 "option '--respond' needs a value" serve 0 --respond
	expect_error 2 "option '--wait' needs a value" connect 127.0.0.1 80 --wait
}

@test "did you mean: commands, subcommands, long options; nc habits get a hint" {
	expect_error 2 "unknown command 'conect'; did you mean 'connect'?" conect 127.0.0.1 80
	expect_error 2 "unknown subcommand 'conect'; did you mean 'connect'?" chat conect h 1
	expect_error 2 "unknown option '--hexdump'; did you mean '--hex-dump'?" serve --hexdump x 0
	expect_error 2 "ambiguous option '--pro' (--proxy, --proxy-type" connect --pro x h 1
	expect_error 2 "unknown option '-l' (serve listens already: sockctl serve [ADDRESS] PORT)" \
		serve -l -p 8000
	expect_error 2 "unknown option '-l' (to listen, use sockctl serve" connect -l 8000
	expect_error 2 "unknown command 'frobnicate' (see" frobnicate
}

@test "options missing their value" {
	expect_error 2 "option '-w' needs a value" connect 127.0.0.1 80 -w
	expect_error 2 "option '--respond' needs a value" serve --respond
}

@test "bad ports" {
	expect_error 2 "invalid port '0x'" connect 127.0.0.1 0x
	expect_error 2 "invalid port '70000'" connect 127.0.0.1 70000
	expect_error 2 "invalid argument '-1...'" connect 127.0.0.1 -1
	expect_error 2 "invalid port '0'" connect 127.0.0.1 0
	expect_error 2 "invalid port '65536'" serve 65536
	expect_error 2 "not a number nor a known tcp service" serve nosuchservice
}

@test "bad values" {
	expect_error 2 "invalid -w 'abc'" connect -w abc 127.0.0.1 80
	expect_error 2 "invalid -i '-3'" connect -i -3 127.0.0.1 80
	expect_error 2 "invalid -q 'soon'" connect -q soon 127.0.0.1 80
	expect_error 2 "invalid --backlog '0'" serve --backlog 0 0
	expect_error 2 "choose one handler" serve --echo --discard 0
	expect_error 2 "exclude each other" connect --send-only --recv-only 127.0.0.1 80
	expect_error 2 "unknown mux backend 'kq'" serve --mux=kq --echo 0
}

@test "missing and extra arguments" {
	expect_error 2 "missing HOST and PORT" connect
	expect_error 2 "missing PORT" connect 127.0.0.1
	expect_error 2 "unexpected argument 'extra'" connect 127.0.0.1 80 extra
	expect_error 2 "missing PORT" serve
	expect_error 2 "with -U PATH, give no" connect -U /tmp/x 127.0.0.1
}

@test "unknown host: exit 1 naming the host" {
	# In a network namespace of its own, so the lookup never leaves the
	# machine (glibc asks the system's DNS server for such a name).
	unshare -rn true 2>/dev/null ||
		skip "user/network namespaces are unavailable here (unshare -rn failed)"
	run --separate-stderr timeout $T unshare -rn "$SOCKCTL" connect nosuchhost.invalid 80 </dev/null
	[ "$status" -eq 1 ] || fail "exit $status, wanted 1: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "wanted one line, got: $stderr"
	[[ $stderr == *"nosuchhost.invalid:"* ]] || fail "wanted the host in: $stderr"
	[ -z "$output" ]
}

@test "unreachable port: exit 1 with the reason" {
	p=$(free_port)
	expect_error 1 "connect 127.0.0.1:$p: Connection refused" connect 127.0.0.1 "$p"
}

@test "-n refuses names" {
	expect_error 1 "not a numeric address" connect -n localhost 80
}

@test "address in use: exit 1 naming the address" {
	serve_bg srv --echo -k
	expect_error 1 "listen 127.0.0.1:$port: Address already in use" serve "$port"
}

@test "Unix path too long or empty: a usage error" {
	long=$(printf 'x%.0s' {1..200})
	expect_error 2 "invalid -U '/tmp/xxx" connect -U "/tmp/$long"
	expect_error 2 "invalid -U" serve -U "/tmp/$long" --echo
	expect_error 2 "option '-U' needs a value" udp-send -U "" x
}

@test "help for every command exits 0 and mentions its usage" {
	for c in serve connect; do
		run "$SOCKCTL" "$c" --help
		assert_success
		assert_output --partial "usage: sockctl $c"
		run "$SOCKCTL" help "$c"
		assert_success
		assert_output --partial "usage: sockctl $c"
		run "$SOCKCTL" "$c" -h --mux=poll
		assert_success
	done
}

@test "a closed stdout stays closed: data is refused, never sent where stdout was" {
	serve_bg srv -k --echo 127.0.0.1 0
	run --separate-stderr timeout "$T" bash -c "echo hi | '$SOCKCTL' connect 127.0.0.1 $port >&-"
	assert_failure 1
	[[ $stderr == *"write to stdout: Bad file descriptor"* ]] || fail "$stderr"
	# Without a stdout, the next descriptor opened used to become fd 1
	# (http get then failed with "Invalid argument" on the loop's fd).
	mkdir "$BATS_TEST_TMPDIR/site"
	echo hello >"$BATS_TEST_TMPDIR/site/a.txt"
	start_bg web "$SOCKCTL" http serve -d "$BATS_TEST_TMPDIR/site" 127.0.0.1 0
	wait_ready web
	run --separate-stderr timeout "$T" bash -c "'$SOCKCTL' http get http://127.0.0.1:$port/a.txt >&-"
	assert_failure 23
	[[ $stderr == *"write output: Bad file descriptor"* ]] || fail "$stderr"
}
