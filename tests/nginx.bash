# nginx for the tests that meet it (load after helpers).
#
# nginx_start ROOT: one nginx process (no daemon, no master) serving ROOT
# on 127.0.0.1; sets $port, and $nginx_pid through start_bg (so teardown
# ends it by PID). nginx cannot listen on port 0 and say which port it
# took: a port below 32768 is picked at random and another tried when
# nginx finds it taken. Requests are logged to
# $BATS_TEST_TMPDIR/nginx-access.log. Skips the test when nginx is
# missing or cannot start here.
#   NGINX_SSL=1                  listen with TLS, $NGINX_CERT and $NGINX_KEY
#   NGINX_HTTP='...'             more of the http block (before its access_log)
#   NGINX_LOG_FORMAT=NAME        the access log's format (defined in NGINX_HTTP)
#   NGINX_SERVER='...'           more of the server block
nginx_start() {
	command -v nginx >/dev/null || skip "nginx is not installed"
	local t=$BATS_TEST_TMPDIR root=$1 try i ssl="" tls=""
	if [[ -n ${NGINX_SSL:-} ]]; then
		ssl=" ssl"
		tls="ssl_certificate $NGINX_CERT; ssl_certificate_key $NGINX_KEY;"
	fi
	mkdir -p "$t/ngx"
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM % 12000)))
		cat >"$t/nginx.conf" <<-CONF
			daemon off;
			master_process off;
			worker_processes 1;
			pid $t/nginx.pid;
			error_log $t/nginx-error.log;
			events { worker_connections 64; }
			http {
				${NGINX_HTTP:-}
				access_log $t/nginx-access.log ${NGINX_LOG_FORMAT:-};
				client_body_temp_path $t/ngx/body;
				proxy_temp_path $t/ngx/proxy;
				fastcgi_temp_path $t/ngx/fastcgi;
				uwsgi_temp_path $t/ngx/uwsgi;
				scgi_temp_path $t/ngx/scgi;
				default_type application/octet-stream;
				server {
					listen 127.0.0.1:$port$ssl;
					$tls
					root $root;
					${NGINX_SERVER:-}
				}
			}
		CONF
		: >"$t/nginx-error.log"
		start_bg nginx nginx -p "$t" -c "$t/nginx.conf" -e "$t/nginx-error.log"
		for ((i = 0; i < 500; i++)); do
			kill -0 "$nginx_pid" 2>/dev/null || break
			# Its pid file is written once it listens: before that,
			# whatever answers on the port is not this nginx.
			[[ $(cat "$t/nginx.pid" 2>/dev/null) == "$nginx_pid" ]] &&
				(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
			sleep 0.02
		done
		kill -0 "$nginx_pid" 2>/dev/null &&
			skip "nginx did not accept connections on port $port"
		grep -q "Address already in use" "$t/nginx-error.log" "$t/nginx.err" 2>/dev/null ||
			skip "nginx could not start: $(tail -n 1 "$t/nginx-error.log" "$t/nginx.err" 2>/dev/null | tr '\n' ' ')"
	done
	skip "no free port for nginx below 32768"
}
