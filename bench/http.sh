#!/bin/bash
# HTTP static files: sockctl http serve against nginx (sendfile on, access
# log off), python3 -m http.server and busybox httpd, all in the same run,
# with wrk -t1 -c50 on a 1 KiB and a 1 MiB file. Then sockctl --workers 2
# against nginx with two workers on the 1 KiB file. Prints req/s and the
# ratio sockctl/peer. Run by hand: bench/http.sh [SECONDS] (default 10).
# Needs: wrk nginx-light busybox python3 (build-aux/install-deps.sh).
# BASELINE=path/to/older/sockctl serves the same files (one worker and two)
# and is measured beside the new binary: REPEAT (3) runs of each, every
# baseline run next to a new one, which goes first alternating; sockctl's
# figure is then the median of its runs, and "vs baseline" rows follow the
# peers'. REPEAT also works without BASELINE (default 1 then); peers are
# measured once.
set -u
secs=${1:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
sockctl=${SOCKCTL:-$here/sockctl}
base=${BASELINE:-}
repeat=${REPEAT:-${base:+3}}
repeat=${repeat:-1}
[ -z "$base" ] || [ -x "$base" ] || { echo "bench/http.sh: BASELINE=$base is not an executable" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
for t in wrk nginx busybox python3; do
	command -v "$t" >/dev/null || { echo "bench/http.sh: $t is not installed" >&2; exit 1; }
done
mkdir -p "$tmp/www"
chmod 755 "$tmp" # nginx workers run as another user
head -c 1024 /dev/urandom >"$tmp/www/1k.bin"
head -c 1048576 /dev/urandom >"$tmp/www/1m.bin"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	for _ in $(seq 500); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.01
	done
	echo "bench/http.sh: nothing listening on port $1" >&2
	return 1
}
nginx_conf() { # PORT WORKERS
	mkdir -p "$tmp/nginx$2"
	cat >"$tmp/nginx$2/nginx.conf" <<CONF
worker_processes $2;
daemon off;
pid $tmp/nginx$2/nginx.pid;
error_log $tmp/nginx$2/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $tmp/nginx$2;
	proxy_temp_path $tmp/nginx$2;
	fastcgi_temp_path $tmp/nginx$2;
	uwsgi_temp_path $tmp/nginx$2;
	scgi_temp_path $tmp/nginx$2;
	server { listen 127.0.0.1:$1; root $tmp/www; }
}
CONF
	echo "$tmp/nginx$2/nginx.conf"
}
start() { # PORT CMD...
	local port=$1
	shift
	"$@" >/dev/null 2>"$tmp/last.err" &
	pids+=($!)
	wait_port "$port"
}
rps() { # URL -> requests/s, with "!" when wrk saw errors or non-2xx answers
	wrk -t1 -c50 -d"${secs}s" "$1" 2>/dev/null |
		awk '/^Non-2xx|Socket errors/ { bad = "!" } /^Requests\/sec:/ { r = $2 }
			END { printf "%d%s", r, bad }'
}
med() { # RPS... -> the median, with "!" if any run had one
	local bad='' x v=()
	for x; do
		[[ $x == *! ]] && bad=!
		v+=("${x%!}")
	done
	printf '%s%s' "$(printf '%s\n' "${v[@]}" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')" "$bad"
}
# measure URL [BASE_URL]: repeat runs of URL, each beside one of BASE_URL
# (odd runs: BASE_URL first); sets s and b to the medians.
measure() {
	local r a=() bb=()
	for ((r = 0; r < repeat; r++)); do
		if [ -n "${2:-}" ] && ((r % 2)); then
			bb+=("$(rps "$2")")
		fi
		a+=("$(rps "$1")")
		if [ -n "${2:-}" ] && ! ((r % 2)); then
			bb+=("$(rps "$2")")
		fi
	done
	s=$(med "${a[@]}") b=
	[ -z "${2:-}" ] || b=$(med "${bb[@]}")
}
row() { # LABEL SOCKCTL PEER: one line with the ratio sockctl/peer
	local ratio
	ratio=$(awk -v a="${2%!}" -v b="${3%!}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	printf '%-28s %12s %12s %8s\n' "$1" "$2" "$3" "$ratio"
}

declare -A port
port[sockctl]=$(free_port)
port[nginx]=$(free_port)
port[python]=$(free_port)
port[busybox]=$(free_port)
port[sockctl2]=$(free_port)
port[nginx2]=$(free_port)
port[base]=$(free_port)
port[base2]=$(free_port)
start "${port[sockctl]}" "$sockctl" http serve --log-format=none -d "$tmp/www" "${port[sockctl]}"
start "${port[nginx]}" nginx -c "$(nginx_conf "${port[nginx]}" 1)"
start "${port[python]}" python3 -m http.server -b 127.0.0.1 -d "$tmp/www" "${port[python]}"
start "${port[busybox]}" busybox httpd -f -p "127.0.0.1:${port[busybox]}" -h "$tmp/www"
start "${port[sockctl2]}" "$sockctl" http serve --workers 2 --log-format=none -d "$tmp/www" \
	"${port[sockctl2]}"
start "${port[nginx2]}" nginx -c "$(nginx_conf "${port[nginx2]}" 2)"
if [ -n "$base" ]; then
	start "${port[base]}" "$base" http serve --log-format=none -d "$tmp/www" "${port[base]}"
	start "${port[base2]}" "$base" http serve --workers 2 --log-format=none -d "$tmp/www" \
		"${port[base2]}"
fi
url() { echo "${base:+http://127.0.0.1:${port[$1]}/$2}"; } # a baseline's URL, if any

[ -z "$base" ] || echo "# sockctl: $("$sockctl" --version 2>&1 | head -n 1) at $sockctl;" \
	"baseline: $("$base" --version 2>&1 | head -n 1) at $base"
# The machine may be shared: the load average says how much the figures
# can be trusted.
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %12s %12s %8s\n' "wrk -t1 -c50 -d${secs}s" "sockctl" "peer" "ratio"
for f in 1k.bin 1m.bin; do
	measure "http://127.0.0.1:${port[sockctl]}/$f" "$(url base "$f")"
	for peer in nginx python busybox; do
		row "$f vs $peer" "$s" "$(rps "http://127.0.0.1:${port[$peer]}/$f")"
	done
	[ -z "$base" ] || row "$f vs baseline" "$s" "$b"
done
measure "http://127.0.0.1:${port[sockctl2]}/1k.bin" "$(url base2 1k.bin)"
row "1k.bin, 2 workers vs nginx 2" "$s" "$(rps "http://127.0.0.1:${port[nginx2]}/1k.bin")"
[ -z "$base" ] || row "1k.bin, 2 workers, baseline" "$s" "$b"
echo "(! = wrk counted socket errors or non-2xx answers for that server)"
[ "$repeat" = 1 ] || echo "(sockctl${base:+ and baseline}: median of $repeat runs${base:+, side by side})"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
