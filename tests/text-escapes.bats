#!/usr/bin/env bats
# Backslash escapes in TEXT values: serve --respond and http serve --body
# decode printf's escapes; @FILE is sent as it is; a bad escape is a usage
# error.
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "serve --respond decodes \\r \\n \\t \\\\ \\xHH and octal, over TCP and UDP" {
	serve_bg tcp -k --respond 'HTTP/1.0 200 OK\r\n\r\nhi\t\\\x41\101\0!'
	timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null >got
	printf 'HTTP/1.0 200 OK\r\n\r\nhi\t\\AA\0!' >want
	cmp want got
	# What curl, a real HTTP client, makes of the README's one-liner.
	serve_bg http -k --respond 'HTTP/1.0 200 OK\r\n\r\nhi'
	run timeout "$T" curl -sS "http://127.0.0.1:$port/"
	assert_success
	assert_output "hi"
	serve_bg udp -u --respond 'pong\n'
	run timeout "$T" "$SOCKCTL" udp-send -w 1 --hex 127.0.0.1 "$port" 70696e67
	assert_success
	assert_output "706f6e670a"
}

@test "serve --respond: -C turns the decoded \\n into CRLF" {
	serve_bg crlf -k -C --respond 'a\nb\n'
	timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null >got
	printf 'a\r\nb\r\n' >want
	cmp want got
}

@test "serve --respond @FILE is sent as it is, backslashes and all" {
	printf 'raw \\r\\n stays\n' >body
	serve_bg file -k --respond @body
	timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null >got
	cmp body got
	# A text that starts with @ is written \x40.
	serve_bg at -k --respond '\x40home'
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_output "@home"
}

@test "serve --respond: bad escapes are one usage line, exit 2" {
	local bad
	for bad in 'a\q' 'end\' '\xZZ' '\400' '\ '; do
		run --separate-stderr timeout "$T" "$SOCKCTL" serve --respond "$bad" 0
		assert_failure 2
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "more than one line for '$bad': $stderr"
		[[ $stderr == "sockctl serve: --respond: "*"(see 'sockctl serve --help')" ]] ||
			fail "for '$bad': $stderr"
		[[ $stderr != *listening* ]] || fail "listened with '$bad'"
	done
}

@test "http serve --body decodes the same escapes; @FILE as it is; bad ones exit 2" {
	start_bg web "$SOCKCTL" http serve --respond --body 'line one\nline two\t\x21\n' 0
	wait_ready web
	run timeout "$T" curl -sS "http://127.0.0.1:$port/"
	assert_success
	assert_output $'line one\nline two\t!'
	printf 'kept \\n as typed' >body
	start_bg webfile "$SOCKCTL" http serve --respond --body @body 0
	wait_ready webfile
	run timeout "$T" curl -sS "http://127.0.0.1:$port/"
	assert_output 'kept \n as typed'
	run --separate-stderr timeout "$T" "$SOCKCTL" http serve --respond --body 'x\y' 0
	assert_failure 2
	assert_equal "$stderr" "sockctl http serve: --body: unknown escape '\\y' at offset 1 (see 'sockctl http serve --help')"
}
