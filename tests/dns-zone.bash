# The test DNS data and the dnsmasq instances that serve it, shared by
# tests/resolve.bats and bench/resolve.sh. Needs dnsmasq (dnsmasq-base),
# dig (bind9-dnsutils) and socat.

# free_port (also in helpers.bash): a port nothing listens on.
declare -F free_port >/dev/null || free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# hexname NAME: a domain name in wire format, as hex (no compression).
hexname() {
	local IFS=. label out=""
	for label in $1; do
		out+=$(printf '%02x' "${#label}")
		out+=$(printf '%s' "$label" | od -An -tx1 | tr -d ' \n')
	done
	printf '%s00' "$out"
}

# hexstr STRING: a DNS character-string (length byte + bytes) as hex;
# printf escapes in STRING are expanded.
hexstr() {
	local bytes
	bytes=$(printf "$1" | od -An -tx1 | tr -d ' \n')
	printf '%02x%s' $((${#bytes} / 2)) "$bytes"
}

# zone_args: dnsmasq options for every record the tests look up.
zone_args() {
	local big="" i
	local mid=""
	for i in 1 2 3 4 5 6 7 8; do
		big+=",$(printf 'chunk%d-%0190d' "$i" 0)"
		((i > 4)) || mid+=",$(printf 'chunk%d-%0190d' "$i" 0)"
	done
	# A PTR target whose first label holds ESC [ 3 1 m and a BEL: it must
	# come out as x\027[31m\007.test.
	local evilptr
	evilptr="$(hexstr 'x\033[31m\007')$(hexname test)"
	printf '%s\n' \
		--local=/test/ --local-ttl=300 \
		--host-record=www.test,192.0.2.1,2001:db8::1 \
		--host-record=mail.test,192.0.2.25 \
		--cname=alias.test,www.test \
		--mx-host=test,mail.test,10 \
		--srv-host=_sip._tcp.test,sip.test,5060,10,20 \
		--txt-record=txt.test,"v=spf1 -all","hello world" \
		"--txt-record=big.test${big}" \
		"--txt-record=mid.test${mid}" \
		--dns-rr=test,2,"$(hexname ns1.test)" \
		--dns-rr=test,6,"$(hexname ns1.test)$(hexname hostmaster.test)$(printf '%08x%08x%08x%08x%08x' 2026112301 3600 600 86400 300)" \
		--dns-rr=test,257,"0005$(printf 'issue' | od -An -tx1 | tr -d ' \n')$(printf 'ca.example' | od -An -tx1 | tr -d ' \n')" \
		--dns-rr=evil.test,16,"$(hexstr 'quote" back\\ esc\033[2J bell\007 hi\377')" \
		--dns-rr=66.2.0.192.in-addr.arpa,12,"$evilptr"
}

# dns_wait ADDR PORT: polls (at most 10 s) until the server answers.
dns_wait() {
	local i
	for ((i = 0; i < 500; i++)); do
		dig +short +time=1 +tries=1 -p "$2" @"$1" www.test A 2>/dev/null | grep -q . && return 0
		sleep 0.02
	done
	echo "dnsmasq on $1#$2 never answered" >&2
	return 1
}

# dns_start DIR: starts, with logs and pids in DIR,
#  - a UDP black hole (socat, reads and never answers): $DNS_HOLE
#  - dnsmasq with the zone above, forwarding *.slow.test to the black
#    hole: $DNS (127.0.0.1:PORT), $DNS_PORT
#  - a validating dnsmasq forwarding to the first, which answers unsigned
#    data and so makes every answer fail validation: SERVFAIL: $DNS_SF
# A second argument picks the main server's port ("53" in a private
# network namespace; "" for any free port); further arguments are extra
# dnsmasq options for it.
dns_start() {
	local dir=$1 port=${2:-} hole sfport
	shift 2 2>/dev/null || shift $#
	hole=$(free_port)
	socat -u UDP-RECV:"$hole",bind=127.0.0.1 /dev/null 3>&- &
	echo $! >"$dir/pids"
	[[ -n $port ]] || port=$(free_port)
	sfport=$(free_port)
	local -a zone
	mapfile -t zone < <(zone_args)
	# --user= --group=: stay who we are (in a user namespace nothing else
	# is possible).
	local -a common=(-k --user= --group= --conf-file=/dev/null --no-resolv --no-hosts
		--listen-address=127.0.0.1 --bind-interfaces)
	dnsmasq "${common[@]}" --port="$port" --pid-file="$dir/dnsmasq.pid" "${zone[@]}" \
		--server=/slow.test/127.0.0.1#"$hole" "$@" >"$dir/dnsmasq.log" 2>&1 3>&- &
	echo $! >>"$dir/pids"
	dnsmasq "${common[@]}" --port="$sfport" --pid-file="$dir/dnsmasq-sf.pid" \
		--dnssec --server=127.0.0.1#"$port" \
		--trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D \
		>"$dir/dnsmasq-sf.log" 2>&1 3>&- &
	echo $! >>"$dir/pids"
	dns_wait 127.0.0.1 "$port" || { cat "$dir"/dnsmasq*.log >&2; return 1; }
	export DNS="127.0.0.1:$port" DNS_PORT=$port DNS_SF="127.0.0.1:$sfport" DNS_HOLE="127.0.0.1:$hole"
}

# axfr_zone_args: dnsmasq options for the zone axfr.example, served
# authoritatively (so also by zone transfer) to 127.0.0.1.
axfr_zone_args() {
	local z=axfr.example
	printf '%s\n' \
		--auth-zone=$z --auth-server=ns1.$z,127.0.0.1 --auth-peer=127.0.0.1 \
		--auth-soa=2026120101,hostmaster.$z,3600,600,86400 --auth-ttl=300 \
		--host-record=www.$z,192.0.2.1,2001:db8::1 --host-record=mail.$z,192.0.2.25 \
		--cname=alias.$z,www.$z --mx-host=$z,mail.$z,10 \
		--srv-host=_sip._tcp.$z,sip.$z,5060,10,20 \
		--txt-record=txt.$z,"v=spf1 -all","hello world" \
		--dns-rr=$z,257,"0005$(printf 'issue' | od -An -tx1 | tr -d ' \n')$(printf 'ca.example' | od -An -tx1 | tr -d ' \n')" \
		--dns-rr=evil.$z,16,"$(hexstr 'esc\033[2J bell\007 hi\377')"
}

# axfr_start DIR: starts, beside dns_start's servers (dns_stop ends it),
# dnsmasq with the zone axfr.example: $AXFR_DNS (127.0.0.1:PORT).
axfr_start() {
	local dir=$1 port
	port=$(free_port)
	local -a zone
	mapfile -t zone < <(axfr_zone_args)
	dnsmasq -k --user= --group= --conf-file=/dev/null --no-resolv --no-hosts \
		--listen-address=127.0.0.1 --bind-interfaces --port="$port" \
		--pid-file="$dir/dnsmasq-axfr.pid" "${zone[@]}" >"$dir/dnsmasq-axfr.log" 2>&1 3>&- &
	echo $! >>"$dir/pids"
	local i
	for ((i = 0; i < 500; i++)); do
		dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 www.axfr.example A 2>/dev/null |
			grep -q . && break
		sleep 0.02
	done
	((i < 500)) || { cat "$dir/dnsmasq-axfr.log" >&2; return 1; }
	export AXFR_DNS="127.0.0.1:$port" AXFR_PORT=$port
}

# dns_stop DIR: kills what dns_start started.
dns_stop() {
	local p
	[[ -f $1/pids ]] || return 0
	for p in $(cat "$1/pids"); do
		kill "$p" 2>/dev/null
	done
	for p in $(cat "$1/pids"); do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.02
		done
		kill -9 "$p" 2>/dev/null
	done
	rm -f "$1/pids"
}
