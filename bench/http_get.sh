#!/bin/bash
# Benchmark: `sockctl http get` against curl, fetching from one nginx
# worker (sendfile on) on loopback, in the same run. Prints wall times and
# the ratio curl/sockctl (above 1: sockctl is faster).
#   bench/http_get.sh [SOCKCTL]     (default ./sockctl)
# Cases: many small files on one kept-alive connection, several 1 MiB
# files on one connection (into /dev/null, into a pipe to cat, into a
# file), 1,000 small JSON POSTs on one connection, and one process per
# request. Each one-process case first checks that both
# programs wrote the same bytes.
#   BASELINE=/tmp/old/sockctl REPEAT=3 bench/http_get.sh
# BASELINE=path/to/older/sockctl measures that binary too, in the same run,
# with the ratio baseline/sockctl (above 1: this sockctl is faster);
# REPEAT=N runs each case N times and prints the medians.
set -eu
SOCKCTL=${1:-./sockctl}
BASELINE=${BASELINE:-}
REPEAT=${REPEAT:-1}
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "BASELINE=$BASELINE is not an executable" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is not installed" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }
t=$(mktemp -d)
trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$t"' EXIT
mkdir -p "$t/www" "$t/tmp"
head -c 1024 /dev/urandom >"$t/www/1k"
head -c 1048576 /dev/urandom >"$t/www/1m"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$t/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1;
pid $t/nginx.pid; error_log $t/error.log;
events { worker_connections 256; }
http {
	access_log off; sendfile on; keepalive_requests 100000;
	client_body_temp_path $t/tmp/b; proxy_temp_path $t/tmp/p; fastcgi_temp_path $t/tmp/f;
	uwsgi_temp_path $t/tmp/u; scgi_temp_path $t/tmp/s;
	server {
		listen 127.0.0.1:$port; root $t/www;
		location = /post { return 200 "ok\\n"; }
	}
}
CONF
nginx -p "$t" -c "$t/nginx.conf" -e "$t/error.log" &
ngx=$!
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

now() { date +%s.%N; }
# run NAME CMD...: wall seconds of CMD (output discarded).
secs() {
	local a b
	a=$(now)
	"$@" >/dev/null
	b=$(now)
	echo "$a $b" | awk '{ printf "%.3f", $2 - $1 }'
}
median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
compare() {
	local name=$1 r s c b
	shift
	local ss=() cs=() bs=()
	for ((r = 0; r < REPEAT; r++)); do
		ss+=("$(secs "$@" sockctl)")
		[ -z "$BASELINE" ] || bs+=("$(secs "$@" baseline)")
		cs+=("$(secs "$@" curl)")
	done
	s=$(printf '%s\n' "${ss[@]}" | median)
	c=$(printf '%s\n' "${cs[@]}" | median)
	echo "$s $c" | awk -v n="$name" '{ printf "%-34s sockctl %7.3f s   curl %7.3f s   curl/sockctl %.2f", n, $1, $2, $2 / $1 }'
	if [ -n "$BASELINE" ]; then
		b=$(printf '%s\n' "${bs[@]}" | median)
		echo "$s $b" | awk '{ printf "   baseline %7.3f s   baseline/sockctl %.2f", $2, $2 / $1 }'
	fi
	echo
}

u=http://127.0.0.1:$port
urls() { for ((i = 0; i < $1; i++)); do echo "$u/$2"; done; }
# many N FILE WHO [OPTION...]: N URLs in one process.
many() {
	local n=$1 f=$2 who=$3
	shift 3
	mapfile -t list < <(urls "$n" "$f")
	case $who in
	sockctl) "$SOCKCTL" http get "$@" "${list[@]}" ;;
	baseline) "$BASELINE" http get "$@" "${list[@]}" ;;
	*) curl -s "$@" "${list[@]}" ;;
	esac
}
# same CASE...: sockctl and curl write the same bytes for CASE.
same() {
	cmp <("$@" sockctl) <("$@" curl) >/dev/null || { echo "sockctl and curl differ: $*" >&2; exit 1; }
}
post() { many "$1" post "$2" --json '{"id":1,"name":"bench"}'; }
# The bodies read by another process, or written to a file.
piped() { many "$@" | cat; }
tofile() { many "$@" >"$t/out"; }
each() {
	local n=$1 f=$2 who=$3
	for ((i = 0; i < n; i++)); do
		case $who in
		sockctl) "$SOCKCTL" http get "$u/$f" ;;
		baseline) "$BASELINE" http get "$u/$f" ;;
		*) curl -s "$u/$f" ;;
		esac
	done
}
echo "$(nginx -v 2>&1 | sed "s/.*: //"), one worker, sendfile on; $(curl --version | head -n 1 | cut -d" " -f1-2); loopback; $(nproc) cores; median of $REPEAT; load $(cut -d" " -f1-3 /proc/loadavg)"
[ -z "$BASELINE" ] || echo "baseline: $BASELINE"
same many 5000 1k
compare "5000 x 1 KiB, one process" many 5000 1k
same many 300 1m
compare "300 x 1 MiB, one process" many 300 1m
compare "300 x 1 MiB into a pipe" piped 300 1m
compare "300 x 1 MiB into a file" tofile 300 1m
same post 1000
compare "1000 JSON POSTs, one process" post 1000
compare "300 x 1 KiB, a process each" each 300 1k
