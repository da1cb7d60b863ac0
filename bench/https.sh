#!/bin/bash
# HTTPS static files: sockctl http serve --tls against nginx (one worker,
# ssl, access log off), the same P-256 certificate and TLS 1.3 on both,
# with wrk -t1 -c50: a 1 KiB and a 1 MiB file over kept-alive connections,
# and the 1 KiB file with a new connection (a full handshake) per request
# (-H 'Connection: close'). Prints req/s, the ratio sockctl/nginx, and the
# plain-http figure of the same binary for the 1 KiB file. REPEAT (3) runs
# each, alternating which server goes first; medians.
# Run by hand: bench/https.sh [SECONDS] (default 10).
# Needs: wrk nginx openssl (build-aux/install-deps.sh).
source "$(dirname "$0")/lib.sh"
secs=${1:-10}
need wrk nginx openssl
chmod 755 "$TMP" # nginx workers may run as another user
mkdir -p "$TMP/www"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
head -c 1048576 /dev/urandom >"$TMP/www/1m.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null || die "openssl req failed"

bg tls "$SOCKCTL" http serve --log-format=none -d "$TMP/www" --tls --cert "$TMP/cert.pem" \
	--key "$TMP/key.pem" --tls-min 1.3 0
wait_ready tls
sport=$port
bg plain "$SOCKCTL" http serve --log-format=none -d "$TMP/www" 0
wait_ready plain
pport=$port
nport=$(free_port)
cat >"$TMP/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $TMP;
	proxy_temp_path $TMP;
	fastcgi_temp_path $TMP;
	uwsgi_temp_path $TMP;
	scgi_temp_path $TMP;
	server {
		listen 127.0.0.1:$nport ssl;
		ssl_certificate $TMP/cert.pem;
		ssl_certificate_key $TMP/key.pem;
		ssl_protocols TLSv1.3;
		root $TMP/www;
	}
}
CONF
bg nginx nginx -c "$TMP/nginx.conf"
wait_listen "$nport"

rps() { # URL [WRK ARGS...] -> requests/s ("!" when wrk saw errors or non-2xx)
	local u=$1
	shift
	wrk -t1 -c50 -d"${secs}s" "$@" "$u" 2>/dev/null |
		awk '/^Non-2xx|Socket errors/ { bad = "!" } /^Requests\/sec:/ { r = $2 }
			END { printf "%d%s", r, bad }'
}
# pair PATH [WRK ARGS...]: REPEAT runs of sockctl and nginx side by side;
# sets s and n to the medians.
pair() {
	local path=$1 r a=() b=()
	shift
	for ((r = 0; r < REPEAT; r++)); do
		((r % 2)) && b+=("$(rps "https://127.0.0.1:$nport/$path" "$@")")
		a+=("$(rps "https://127.0.0.1:$sport/$path" "$@")")
		((r % 2)) || b+=("$(rps "https://127.0.0.1:$nport/$path" "$@")")
	done
	s=$(median "${a[@]%!}")$(printf '%s' "${a[@]}" | grep -o '!' | head -n 1)
	n=$(median "${b[@]%!}")$(printf '%s' "${b[@]}" | grep -o '!' | head -n 1)
}
row() { printf '%-34s %10s %10s %7s\n' "$1" "$2" "$3" "$(ratio "${2%!}" "${3%!}")"; }

machine
echo "# sockctl: $("$SOCKCTL" --version 2>&1 | head -n 1); nginx: $(nginx -v 2>&1 | sed 's/.*: //')"
printf '%-34s %10s %10s %7s\n' "wrk -t1 -c50 -d${secs}s, TLS 1.3" sockctl nginx ratio
pair 1k.bin
row "1 KiB, keep-alive" "$s" "$n"
pair 1m.bin
row "1 MiB, keep-alive" "$s" "$n"
pair 1k.bin -H 'Connection: close'
row "1 KiB, a handshake per request" "$s" "$n"
p=()
for ((r = 0; r < REPEAT; r++)); do p+=("$(rps "http://127.0.0.1:$pport/1k.bin")"); done
echo "# the same binary, plain http, 1 KiB keep-alive: $(median "${p[@]%!}") req/s"
echo "(! = wrk counted socket errors or non-2xx answers)"
