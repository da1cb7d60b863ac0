# The peers and helpers of tests/http_get*.bats: http get under a
# timeout, python3's http.server, one nginx process, a scripted peer.
load nginx

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

# nginx_bg DIR: nginx (tests/nginx.bash) serving DIR, logging each
# request's connection number, with $NGINX_EXTRA in its http block; sets
# $port.
nginx_bg() {
	NGINX_HTTP="log_format conn '\$connection \$connection_requests \$status \$request';
		types { text/plain txt; } ${NGINX_EXTRA:-}" NGINX_LOG_FORMAT=conn nginx_start "$1"
}
