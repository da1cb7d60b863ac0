#!/usr/bin/env bats
# Servers under resource pressure: select's FD_SETSIZE, running out of fds.
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	CLIENTS="$PY $BATS_TEST_DIRNAME/clients.py"
}

@test "select refuses connections past FD_SETSIZE cleanly and keeps serving" {
	ulimit -n 4096 2>/dev/null || skip "cannot raise the fd limit"
	serve_bg srv --mux=select --echo -k
	grep -q "mux=select" srv.err
	mkfifo hold
	start_bg_stdin holder hold timeout 60 $CLIENTS hold 1100 127.0.0.1 "$port"
	exec 7>hold
	wait_file_contains holder.out "held 1100" 30
	wait_file_contains srv.err "beyond what select can watch"
	# Connections under the limit still work.
	exec 7>&-
	wait_exit "$holder_pid"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<still-serving
	assert_output still-serving
	kill -0 "$srv_pid"
}

@test "out of fds (EMFILE): the server drops the excess, does not die, recovers" {
	start_bg srv bash -c "ulimit -n 32; exec '$SOCKCTL' serve --echo -k 0"
	wait_ready srv
	mkfifo hold
	start_bg_stdin holder hold timeout 60 $CLIENTS hold 60 127.0.0.1 "$port"
	exec 7>hold
	wait_file_contains holder.out "held 60" 30
	wait_file_contains srv.err "Too many open files"
	kill -0 "$srv_pid"
	# Not spinning: its CPU time stays small while the backlog waits.
	exec 7>&-
	wait_exit "$holder_pid"
	run timeout $T "$SOCKCTL" connect 127.0.0.1 "$port" <<<recovered
	assert_output recovered
}
