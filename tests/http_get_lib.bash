# The peers and helpers of tests/http_get*.bats: http get under a
# timeout, python3's http.server, one nginx process, a scripted peer.

get() {
	timeout "$T" "$SOCKCTL" http get "$@"
}

# The peers need Debian's python3 (build-aux/install-deps.sh); prefer it
# over a version-manager shim that costs a second per start. A variable,
# not a function: start_bg must get the server's own pid to kill it.
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

# A loopback port nothing listens on (bound, then released).
unused_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# peer_bg: starts the scripted peer; sets $port.
peer_bg() {
	start_bg peer "$PY" "$BATS_TEST_DIRNAME/http_get_peer.py"
	# In a || list: wait_ready's polling grep must not trip errexit.
	wait_ready peer || fail "the scripted peer did not start"
}

# pyhttp_bg DIR: python3 -m http.server on port 0 serving DIR; sets $port.
pyhttp_bg() {
	start_bg py "$PY" -u -m http.server 0 --bind 127.0.0.1 --directory "$1"
	wait_file_contains "$BATS_TEST_TMPDIR/py.out" "Serving HTTP"
	port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/py.out" | head -n 1)
	[[ -n "$port" ]]
}

# nginx_bg DIR: one nginx process (no daemon, no master) serving DIR on a
# free loopback port, logging each request's connection number, with
# $NGINX_EXTRA in its http block; sets $port. Skips the test when nginx
# is missing or cannot start here.
nginx_bg() {
	command -v nginx >/dev/null || skip "nginx is not installed"
	local t=$BATS_TEST_TMPDIR
	port=$(unused_port)
	mkdir -p "$t/ngx"
	cat >"$t/nginx.conf" <<-CONF
		daemon off;
		master_process off;
		worker_processes 1;
		pid $t/nginx.pid;
		error_log $t/nginx-error.log;
		events { worker_connections 64; }
		http {
			log_format conn '\$connection \$connection_requests \$status \$request';
			access_log $t/nginx-access.log conn;
			client_body_temp_path $t/ngx/body;
			proxy_temp_path $t/ngx/proxy;
			fastcgi_temp_path $t/ngx/fastcgi;
			uwsgi_temp_path $t/ngx/uwsgi;
			scgi_temp_path $t/ngx/scgi;
			types { text/plain txt; }
			${NGINX_EXTRA:-}
			default_type application/octet-stream;
			server {
				listen 127.0.0.1:$port;
				root $1;
			}
		}
	CONF
	start_bg nginx nginx -p "$t" -c "$t/nginx.conf" -e "$t/nginx-error.log"
	local i
	for ((i = 0; i < 500; i++)); do
		kill -0 "$nginx_pid" 2>/dev/null ||
			skip "nginx could not start: $(tail -n 1 "$t/nginx-error.log" "$t/nginx.err" 2>/dev/null | tr '\n' ' ')"
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.02
	done
	skip "nginx did not accept connections on port $port"
}
