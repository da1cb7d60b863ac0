#!/usr/bin/env bats
# serve and connect: socket options read back from the kernel, inherited
# and socket-activated listeners, every bad value, and nc/ncat/socat
# against the new modes.
load helpers

# The system's python: a version-manager shim in PATH can take seconds to
# start, and exec must keep the pid for LISTEN_PID.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

probe() {
	"$(dirname "$SOCKCTL")/tests/sockopt-probe" "$1"
}

# wait_connected PID: until the process has a connected TCP socket.
wait_connected() {
	for _ in $(seq 500); do
		probe "$1" | grep -q 'peer=127' && return 0
		sleep 0.02
	done
	echo "no connection in process $1" >&2
	return 1
}

OPTS=(--nodelay --sndbuf 256K --rcvbuf 128K --keepalive=30,7,4 --tos 0x28 --ttl 17 --linger 3
	--bind-dev lo)

@test "every socket option is what getsockopt reads back, on both sides" {
	serve_bg srv "${OPTS[@]}" --reuseport --echo -k 127.0.0.1 0
	mkfifo "$BATS_TEST_TMPDIR/in"
	start_bg_stdin cli "$BATS_TEST_TMPDIR/in" "$SOCKCTL" connect "${OPTS[@]}" 127.0.0.1 "$port"
	exec {hold}>"$BATS_TEST_TMPDIR/in"
	wait_connected "$srv_pid"
	wait_connected "$cli_pid"
	local want='nodelay=1 sndbuf=524288 rcvbuf=262144 keepalive=1 keepidle=30 keepintvl=7 keepcnt=4 .*tos=40 ttl=17 linger=1/3'
	run probe "$srv_pid"
	assert_line --regexp "^local=127.0.0.1:$port peer=- listen=1 .*reuseport=1 .*dev=lo$"
	assert_line --regexp "^local=127.0.0.1:$port peer=127.0.0.1:[0-9]+ listen=0 $want"
	run probe "$cli_pid"
	assert_line --regexp "^local=127.0.0.1:[0-9]+ peer=127.0.0.1:$port listen=0 $want dev=lo$"
	exec {hold}>&-
	wait_exit "$cli_pid"
	assert_equal "$status" 0
}

@test "every bad value is one clear usage error" {
	local -a cases=(
		"serve --sndbuf 0 0|bad --sndbuf '0'"
		"serve --rcvbuf 1T 0|bad --rcvbuf '1T'"
		"connect --keepalive=0 h 1|bad --keepalive '0'"
		"connect --keepalive=1,2,3,4 h 1|bad --keepalive"
		"serve --tos 256 0|bad --tos '256'"
		"serve --ttl 0 0|bad --ttl '0'"
		"connect --linger -1 h 1|bad --linger '-1'"
		"serve --bind-dev a/b 0|bad --bind-dev 'a/b'"
		"serve --model forks --echo 0|invalid --model 'forks'"
		"serve --model fork 0|--model=fork runs --echo"
		"serve --workers 0 -k --echo 0|invalid --workers '0'"
		"serve --workers 2 --echo 0|--workers needs -k"
		"serve -m x --echo 0|invalid --max-conns 'x'"
		"serve --allow 10.0.0.0/33 0|--allow: bad prefix length"
		"serve --deny example.org 0|--deny: 'example.org' is not an address"
		"serve --fd 2 --echo|bad --fd '2'"
		"serve --fd 99 --echo|fd 99: Bad file descriptor"
		"serve --stats=xml --echo 0|invalid --stats 'xml'"
		"serve --exec ' ' 0|--exec needs a program"
		"serve --echo --exec cat 0|replace the built-in handlers"
		"connect -z h|-z needs HOST and PORTS"
		"connect -z --parallel 0 h 1|invalid --parallel '0'"
		"connect -z 127.0.0.1 http,nosuch|unknown service 'nosuch'"
		"connect --json h 1|--parallel, --json, --open and --syn go with -z"
		"connect --proxy nocolon h 1|invalid --proxy 'nocolon'"
		"connect --proxy h:1 --proxy-type ftp h 1|invalid --proxy-type 'ftp'"
		"connect --proxy h:1 --proxy-auth nouser h 1|invalid --proxy-auth"
		"connect --proxy h:1 --proxy-dns there h 1|invalid --proxy-dns 'there'"
		"connect --proxy-type socks5 h 1|need --proxy"
		"connect --reuseport h 1|--reuseport is for serve"
	)
	local c args want
	for c in "${cases[@]}"; do
		args=${c%%|*}
		want=${c#*|}
		eval "run timeout \"\$T\" \"\$SOCKCTL\" $args </dev/null"
		[[ $status == 2 || ($want == "fd 99: Bad file descriptor" && $status == 1) ]] ||
			fail "'$args' exited $status: $output"
		assert_equal "${#lines[@]}" 1
		assert_output --partial "$want"
	done
}

@test "serve --fd N and LISTEN_FDS/LISTEN_PID use an inherited listener" {
	start_bg fd "$PY" -c '
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
os.set_inheritable(s.fileno(), True)
os.execv(sys.argv[1], [sys.argv[1], "serve", "--fd", str(s.fileno()), "--upper", "-k"])
' "$SOCKCTL"
	wait_ready fd
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"inherited"
	assert_output "INHERITED"
	start_bg act "$PY" -c '
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
os.dup2(s.fileno(), 3)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(sys.argv[1], [sys.argv[1], "serve", "--sh-exec", "echo $LISTEN_FDS-activated", "-k"])
' "$SOCKCTL"
	wait_ready act
	run timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	assert_output "-activated"
}

@test "nc, ncat and socat against exec, workers, models; connect -z agrees with nc -z" {
	serve_bg a --sh-exec 'read l; echo "got $l"' -k 127.0.0.1 0
	run timeout "$T" nc -N 127.0.0.1 "$port" <<<"from nc"
	assert_output "got from nc"
	serve_bg b --workers 2 --upper -k 127.0.0.1 0
	run timeout "$T" bash -c "echo from ncat | ncat 127.0.0.1 $port"
	assert_output "FROM NCAT"
	serve_bg c --model=thread --echo -k 127.0.0.1 0
	run timeout "$T" socat - "TCP:127.0.0.1:$port" <<<"from socat"
	assert_output "from socat"
	local closed
	closed=$(free_port)
	nc -z 127.0.0.1 "$port"
	run timeout "$T" "$SOCKCTL" connect -z --open 127.0.0.1 "$port,$closed"
	assert_output "127.0.0.1 $port open"
	run nc -z 127.0.0.1 "$closed"
	assert_failure
	run timeout "$T" "$SOCKCTL" connect -z 127.0.0.1 "$closed"
	assert_failure 1
	# connect --exec against an ncat server.
	local np
	np=$(free_port)
	start_bg n ncat -l -k 127.0.0.1 "$np" -c 'echo hello from ncat'
	for _ in $(seq 200); do
		"$SOCKCTL" connect -z --open 127.0.0.1 "$np" | grep -q open && break
		sleep 0.05
	done
	run timeout "$T" "$SOCKCTL" connect --sh-exec 'cat >"$BATS_TEST_TMPDIR/got"' 127.0.0.1 "$np"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "hello from ncat"
}

@test "-x - and -o - log to stderr (no file named '-'); a log on stderr appends" {
	local d=$BATS_TEST_TMPDIR
	mkdir "$d/cwd"
	cd "$d/cwd"
	serve_bg srv --echo -k 127.0.0.1 0
	run --separate-stderr timeout "$T" "$SOCKCTL" connect -x - 127.0.0.1 "$port" <<<"ping"
	assert_success
	assert_output "ping"
	[[ $stderr == *"> 00000000  70 69 6e 67 0a"*"< 00000000  70 69 6e 67 0a"* ]]
	run --separate-stderr timeout "$T" "$SOCKCTL" connect -o - 127.0.0.1 "$port" <<<"raw"
	assert_output "raw"
	assert_equal "$stderr" $'raw\nraw'
	[ ! -e - ] || fail "a file named '-' was created"
	# 2>>file: what the file held stays; 2>file: the messages written
	# through stderr and the log are all there, in order.
	echo "earlier" >"$d/err"
	timeout "$T" "$SOCKCTL" connect -x /dev/stderr 127.0.0.1 "$port" <<<"ping" 2>>"$d/err"
	run cat "$d/err"
	assert_line --index 0 "earlier"
	assert_line --index 1 --partial "> 00000000  70 69 6e 67 0a"
	timeout "$T" "$SOCKCTL" connect -v -x /dev/stderr 127.0.0.1 "$port" <<<"ping" 2>"$d/err"
	run cat "$d/err"
	assert_line --index 0 --partial "connected to 127.0.0.1:$port"
	assert_line --index 1 --partial "> 00000000  70 69 6e 67 0a"
	assert_line --index 2 --partial "< 00000000  70 69 6e 67 0a"
	assert_line --index 3 --partial "sent 5 bytes, received 5 bytes"
	# The server side: its dump in its own stderr.
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid"
	serve_bg one -x - --echo 127.0.0.1 0
	timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"srv" >/dev/null
	wait_exit "$one_pid"
	grep -q "< 00000000  73 72 76 0a" "$d/one.err"
	[ ! -e - ]
}

@test "--stats=json reports a failed connection or listener with its error; --stats=text" {
	local p
	p=$(free_port)
	run --separate-stderr timeout "$T" "$SOCKCTL" connect --stats=json 127.0.0.1 "$p"
	assert_failure 1
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "${stderr_lines[0]}" "sockctl: connect 127.0.0.1:$p: Connection refused"
	[[ ${stderr_lines[1]} =~ ^\{\"sent\":0,\"received\":0,\"seconds\":[0-9.]+,\"connections\":0,\"error\":\"connect\ 127.0.0.1:$p:\ Connection\ refused\"\}$ ]] ||
		fail "JSON: ${stderr_lines[1]}"
	serve_bg srv --echo -k 127.0.0.1 0
	run --separate-stderr timeout "$T" "$SOCKCTL" serve --stats=json --echo 127.0.0.1 "$port"
	assert_failure 1
	[[ ${stderr_lines[1]} == *'"connections":0,"error":"listen 127.0.0.1:'$port': Address already in use"}' ]] ||
		fail "JSON: $stderr"
	# A good session: no error member; --stats=text is the -v totals alone.
	run --separate-stderr timeout "$T" "$SOCKCTL" connect --stats=json 127.0.0.1 "$port" <<<"ok"
	[[ $stderr =~ ^\{\"sent\":3,\"received\":3,\"seconds\":[0-9.]+,\"connections\":1\}$ ]] ||
		fail "JSON: $stderr"
	run --separate-stderr timeout "$T" "$SOCKCTL" connect --stats=text 127.0.0.1 "$port" <<<"ok"
	assert_success
	assert_output "ok"
	[[ $stderr =~ ^sockctl:\ sent\ 3\ bytes,\ received\ 3\ bytes\ in\ [0-9.]+\ s$ ]] ||
		fail "text: $stderr"
	# A program's status passed on by serve (no -k) is the error.
	serve_bg prog --stats=json --sh-exec 'exit 3' 127.0.0.1 0
	timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	wait_exit "$prog_pid"
	assert_equal "$status" 3
	run tail -1 "$BATS_TEST_TMPDIR/prog.err"
	assert_output --regexp '"connections":1,"error":"exit status 3"\}$'
	serve_bg txt --stats=text --echo -k 127.0.0.1 0
	timeout "$T" "$SOCKCTL" connect 127.0.0.1 "$port" <<<"four" >/dev/null
	kill -TERM "$txt_pid"
	wait_exit "$txt_pid"
	run tail -1 "$BATS_TEST_TMPDIR/txt.err"
	assert_output "sockctl: served 1 connections, refused 0; received 5 bytes, sent 5 bytes"
}
