# Helpers for the http serve feature tests (auth, compression, CORS,
# listings, the cache). Load after helpers: `load http_serve_lib`.

# hs NAME ARGS...: starts `sockctl http serve ARGS` on port 0 and waits
# for it: $port.
hs() {
	local name=$1
	shift
	start_bg "$name" "$SOCKCTL" http serve "$@" 0
	wait_ready "$name"
}

# need_tls: skips the test in a build without TLS.
need_tls() {
	if "$SOCKCTL" http serve --tls --status x 0 2>&1 | grep -q 'has no TLS'; then
		skip "this build has no TLS"
	fi
}
