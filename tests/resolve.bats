#!/usr/bin/env bats
# resolve --server: straight to a real DNS server (dnsmasq on loopback)
# with every record type, and names that are missing, have no data, are
# refused, fail (SERVFAIL) and time out; zone transfers from dnsmasq's
# authoritative mode; misbehaving servers scripted in tests/dns_peer.py.
# sockctl: per-backend
load helpers
load dns-zone

setup_file() {
	command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
	command -v dig >/dev/null || skip "dig is not installed (bind9-dnsutils)"
	# Hosts named like record types, for the dig-style operands.
	dns_start "$BATS_FILE_TMPDIR" "" --host-record=mx,192.0.2.80 --host-record=in,192.0.2.81
	axfr_start "$BATS_FILE_TMPDIR"
}

teardown_file() {
	dns_stop "$BATS_FILE_TMPDIR"
}

teardown() {
	teardown_common
}

r() {
	timeout "$T" "$SOCKCTL" resolve --server "$DNS" "$@"
}

rs() {
	timeout "$T" "$SOCKCTL" resolve "$@"
}

# peer NAME MODE: starts tests/dns_peer.py MODE as NAME; $PEER is its
# address (UDP and TCP).
peer() {
	start_bg "$1" "$PY" "$BATS_TEST_DIRNAME/dns_peer.py" "$2"
	wait_ready "$1"
	PEER=$addr
}

# A UDP port nothing listens on (ICMP port unreachable, TCP reset).
closed_port() {
	"$PY" -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# JSON documents on stdout, one a line: prints FIELD=VALUE for the keys
# asked, one document a line (python3 is a declared dependency).
jsonf() {
	python3 -c '
import json, sys
keys = sys.argv[1:]
for line in sys.stdin:
    d = json.loads(line)
    out = []
    for k in keys:
        v = d
        for part in k.split("."):
            if isinstance(v, list):
                v = v[int(part)] if int(part) < len(v) else None
            elif isinstance(v, dict):
                v = v.get(part)
        out.append("%s=%s" % (k, json.dumps(v)))
    print(" ".join(out))
' "$@"
}

@test "every record type, readable lines with TTL and a header per query" {
	run --separate-stderr r -t A,AAAA www.test
	assert_success
	assert_line --index 0 --regexp "^;; www\.test A: ok \(NOERROR\) from $DNS over udp in [0-9.]+ ms$"
	assert_line --index 1 $'www.test.\t300\tIN\tA\t192.0.2.1'
	assert_line --index 2 --regexp "^;; www\.test AAAA: ok "
	assert_line --index 3 $'www.test.\t300\tIN\tAAAA\t2001:db8::1'
	run r -t CNAME alias.test
	assert_success
	assert_line $'alias.test.\t300\tIN\tCNAME\twww.test.'
	run r test -t MX,NS,SOA,CAA
	assert_success
	assert_line $'test.\t300\tIN\tMX\t10 mail.test.'
	assert_line $'test.\t300\tIN\tNS\tns1.test.'
	assert_line $'test.\t300\tIN\tSOA\tns1.test. hostmaster.test. 2026112301 3600 600 86400 300'
	assert_line $'test.\t300\tIN\tCAA\t0 issue "ca.example"'
	run r -t TXT txt.test
	assert_success
	assert_line $'txt.test.\t300\tIN\tTXT\t"v=spf1 -all" "hello world"'
	run r -t SRV _sip._tcp.test
	assert_success
	assert_line $'_sip._tcp.test.\t300\tIN\tSRV\t10 20 5060 sip.test.'
	run r -t PTR 1.2.0.192.in-addr.arpa
	assert_success
	assert_line $'1.2.0.192.in-addr.arpa.\t300\tIN\tPTR\twww.test.'
	run r -x 192.0.2.1 2001:db8::1 --short
	assert_success
	assert_output $'www.test.\nwww.test.'
}

@test "--short prints data only, in input order, whatever finishes first" {
	run --separate-stderr r --short -t MX,A test www.test alias.test mail.test
	# test has no A, the others no MX: those are "no data" (on stderr);
	# alias.test's CNAME comes first in its answers.
	assert_failure 4
	assert_output $'10 mail.test.\n192.0.2.1\nwww.test.\nwww.test.\n192.0.2.1\n192.0.2.25'
	[[ $stderr == *"resolve test A: nodata (NOERROR from $DNS)"* ]]
	[[ $stderr == *"resolve www.test MX: nodata"* ]]
	[[ $stderr == *"resolve alias.test MX: nodata"* ]]
}

@test "--json: one document per query with the documented fields" {
	run --separate-stderr r --json -t A,MX www.test nx.test
	# nodata (4) outranks NXDOMAIN (3).
	assert_failure 4
	[ "${#lines[@]}" -eq 4 ]
	run jsonf query kind type status exit rcode server transport attempts tc answers.0.data answers.0.ttl <<<"$output"
	assert_line --index 0 "query=\"www.test\" kind=\"dns\" type=\"A\" status=\"ok\" exit=0 rcode=\"NOERROR\" server=\"$DNS\" transport=\"udp\" attempts=1 tc=false answers.0.data=\"192.0.2.1\" answers.0.ttl=300"
	assert_line --index 1 --partial 'type="MX" status="nodata" exit=4 rcode="NOERROR"'
	assert_line --index 2 --partial 'query="nx.test" kind="dns" type="A" status="nxdomain" exit=3 rcode="NXDOMAIN"'
	run r --json www.test
	run jsonf rtt_ms name aa <<<"$output"
	assert_output --regexp '^rtt_ms=[0-9.]+ name="www.test." aa=true$'
}

@test "exit status per outcome: 3 NXDOMAIN, 4 no data, 5 SERVFAIL, 6 REFUSED, 7 timeout" {
	run r nx.test
	assert_failure 3
	assert_output --regexp '^;; nx\.test A: nxdomain \(NXDOMAIN\)'
	run r -t MX www.test
	assert_failure 4
	assert_output --regexp '^;; www\.test MX: nodata \(NOERROR\)'
	run timeout "$T" "$SOCKCTL" resolve --server "$DNS_SF" www.test
	assert_failure 5
	assert_output --regexp '^;; www\.test A: servfail \(SERVFAIL\)'
	run r refused.example
	assert_failure 6
	assert_output --regexp '^;; refused\.example A: refused \(REFUSED\)'
	run r --timeout 0.2 --tries 2 x.slow.test
	assert_failure 7
	assert_output ";; x.slow.test A: timeout (timed out; 2 tries, last $DNS over udp)"
	run timeout "$T" "$SOCKCTL" resolve --server "$DNS_HOLE" --timeout 0.2 --tries 1 --json www.test
	assert_failure 7
	run jsonf status exit type server transport attempts error <<<"$output"
	assert_output "status=\"timeout\" exit=7 type=\"A\" server=\"$DNS_HOLE\" transport=\"udp\" attempts=1 error=\"timed out\""
	run r www.$(printf 'x%.0s' {1..64}).test
	assert_failure 1
	assert_output --regexp '^;; www\.x+\.test A: error \(.+\)$'
}

@test "several names: the worst outcome wins and each result is printed" {
	run --separate-stderr r --short www.test nx.test refused.example -t MX mail.test
	# MX for each: mail.test has none (4), nx.test (3), refused (6).
	assert_failure 6
	[[ $stderr == *"resolve nx.test MX: nxdomain"* ]]
	[[ $stderr == *"resolve refused.example MX: refused"* ]]
	[[ $stderr == *"resolve mail.test MX: nodata"* ]]
	run r --timeout 0.2 --tries 1 x.slow.test refused.example nx.test
	assert_failure 7
	assert_line --index 0 --partial 'x.slow.test A: timeout'
	assert_line --index 1 --partial 'refused.example A: refused'
	assert_line --index 2 --partial 'nx.test A: nxdomain'
}

@test "hostile TXT and PTR data print as \\DDD escapes, never raw control bytes" {
	run r -t TXT evil.test
	assert_success
	assert_line $'evil.test.\t300\tIN\tTXT\t"quote\\" back\\\\ esc\\027[2J bell\\007 hi\\255"'
	run r -x 192.0.2.66 --short
	assert_success
	assert_output 'x\027[31m\007.test.'
	run r --json -t TXT evil.test
	run jsonf answers.0.data <<<"$output"
	assert_output 'answers.0.data="\"quote\\\" back\\\\ esc\\027[2J bell\\007 hi\\255\""'
	# Nothing outside printable ASCII, tab and newline, in any mode.
	for mode in "" --short --json; do
		r $mode -t TXT evil.test >"$BATS_TEST_TMPDIR/o"
		r $mode -x 192.0.2.66 >>"$BATS_TEST_TMPDIR/o"
		! LC_ALL=C grep -q $'[^\t -~]' "$BATS_TEST_TMPDIR/o" || fail "control bytes in '$mode' output"
	done
}

@test "truncated UDP answers are retried over TCP; --tcp, --no-tcp-fallback, --no-edns" {
	run r --json -t TXT big.test
	assert_success
	run jsonf transport attempts tc answers.0.type <<<"$output"
	assert_output 'transport="tcp" attempts=2 tc=false answers.0.type="TXT"'
	run r --json --no-tcp-fallback -t TXT big.test
	run jsonf transport attempts tc <<<"$output"
	assert_output 'transport="udp" attempts=1 tc=true'
	run r --json --tcp www.test
	assert_success
	run jsonf transport attempts answers.0.data <<<"$output"
	assert_output 'transport="tcp" attempts=1 answers.0.data="192.0.2.1"'
	run r --no-edns --short -t TXT big.test
	assert_success
	assert_output --partial '"chunk8-0000'
	# mid.test (about 800 bytes) fits in EDNS0's 1232 but not in 512.
	run r --json -t TXT mid.test
	run jsonf transport attempts <<<"$output"
	assert_output 'transport="udp" attempts=1'
	run r --json --no-edns -t TXT mid.test
	run jsonf transport attempts status <<<"$output"
	assert_output 'transport="tcp" attempts=2 status="ok"'
	run r -t TXT big.test
	assert_line --index 0 --regexp "^;; big\.test TXT: ok \(NOERROR\) from $DNS over tcp in "
}

@test "the next --server is asked when one does not answer" {
	run timeout "$T" "$SOCKCTL" resolve --server "$DNS_HOLE" --server "$DNS" --timeout 0.2 \
		--tries 1 --json www.test
	assert_success
	run jsonf server attempts answers.0.data <<<"$output"
	assert_output "server=\"$DNS\" attempts=2 answers.0.data=\"192.0.2.1\""
}

@test "-f FILE and -f -: many names concurrently, output in input order" {
	local f="$BATS_TEST_TMPDIR/names" i
	{
		echo "# comment"
		for ((i = 0; i < 60; i++)); do
			echo "www.test"
			echo "  nx$i.test  "
			echo ""
			echo "mail.test"
		done
	} >"$f"
	run --separate-stderr r --short --parallel 7 -f "$f"
	assert_failure 3
	[ "${#lines[@]}" -eq 120 ]
	for ((i = 0; i < 120; i += 2)); do
		assert_equal "${lines[i]}" 192.0.2.1
		assert_equal "${lines[i + 1]}" 192.0.2.25
	done
	[[ $stderr == *"resolve nx0.test A: nxdomain"*"resolve nx59.test A: nxdomain"* ]]
	run r --json -f - <"$f"
	assert_failure 3
	[ "${#lines[@]}" -eq 180 ]
	run jsonf query <<<"$output"
	assert_line --index 1 'query="nx0.test"'
	assert_line --index 178 'query="nx59.test"'
}

@test "usage errors exit 2 with one line" {
	run --separate-stderr "$SOCKCTL" resolve -t MX www.test
	assert_failure 2
	[[ $stderr == *"need --server"* ]]
	run --separate-stderr r -t BOGUS www.test
	assert_failure 2
	[[ $stderr == *"unknown record type 'BOGUS'"* ]]
	run --separate-stderr "$SOCKCTL" resolve --server 300.1.1.1 www.test
	assert_failure 2
	[[ $stderr == *"invalid server '300.1.1.1'"* ]]
	run --separate-stderr r --tries 0 www.test
	assert_failure 2
	run --separate-stderr r
	assert_failure 2
	[[ $stderr == *"nothing to look up"* ]]
	run --separate-stderr r --service http
	assert_failure 2
	run --separate-stderr r -f "$BATS_TEST_TMPDIR/none"
	assert_failure 1
	[[ $stderr == *"none: No such file or directory"* ]]
}

@test "a query sent back to us (QR clear) is not the answer, over UDP and TCP" {
	peer refl reflect
	run rs --server "$PEER" --timeout 0.3 --tries 1 x.test
	assert_failure 7
	assert_output ";; x.test A: timeout (timed out; 1 try, last $PEER over udp)"
	run rs --server "$PEER" --timeout 0.3 --tries 1 --tcp x.test
	assert_failure 7
	assert_output ";; x.test A: timeout (timed out; 1 try, last $PEER over tcp)"
	# The query comes back first, then the real answer: the answer wins.
	peer both reflect-answer
	local tr
	for tr in udp tcp; do
		run --separate-stderr rs --server "$PEER" --timeout 2 --tries 1 --json x.test \
			$([[ $tr == tcp ]] && echo --tcp)
		assert_success
		run jsonf status transport attempts answers.0.data <<<"$output"
		assert_output "status=\"ok\" transport=\"$tr\" attempts=1 answers.0.data=\"192.0.2.99\""
	done
}

@test "no answer says why: unreachable, closed without an answer, timeout; tries as --tries counts" {
	# Truncated over UDP, then the TCP connection is accepted and closed.
	peer tcclose tc-close
	run rs --server "$PEER" --timeout 1 --tries 1 -t TXT x.test
	assert_failure 7
	assert_output ";; x.test TXT: closed (connection closed without an answer; 1 try, last $PEER over tcp after a truncated udp answer)"
	run rs --server "$PEER" --timeout 1 --tries 2 --json x.test
	assert_failure 7
	run jsonf status exit transport attempts tries error <<<"$output"
	assert_output 'status="closed" exit=7 transport="tcp" attempts=3 tries=2 error="connection closed without an answer"'
	# Truncated over UDP, and nothing listens on the TCP port.
	peer tcrefuse tc-refuse
	run rs --server "$PEER" --timeout 1 --tries 1 x.test
	assert_failure 7
	assert_output ";; x.test A: unreachable (connection refused; 1 try, last $PEER over tcp after a truncated udp answer)"
	# Nothing listens at all: ICMP port unreachable, a TCP reset.
	local p
	p=$(closed_port)
	run rs --server "127.0.0.1:$p" --tries 1 --json x.test
	assert_failure 7
	run jsonf status exit transport attempts tries error <<<"$output"
	assert_output 'status="unreachable" exit=7 transport="udp" attempts=1 tries=1 error="connection refused"'
	run rs --server "127.0.0.1:$p" --tcp --tries 2 x.test
	assert_failure 7
	assert_output ";; x.test A: unreachable (connection refused; 2 tries, last 127.0.0.1:$p over tcp)"
	# And a black hole still times out.
	run rs --server "$DNS_HOLE" --timeout 0.2 --tries 1 x.test
	assert_failure 7
	assert_output ";; x.test A: timeout (timed out; 1 try, last $DNS_HOLE over udp)"
}

@test "dig habits: @SERVER, +short, type words for the name before them or for all" {
	run rs +short MX test "@$DNS"
	assert_success
	assert_output "10 mail.test."
	run rs +short test MX www.test "@127.0.0.1#$DNS_PORT"
	assert_success
	assert_output $'10 mail.test.\n192.0.2.1'
	run rs @127.0.0.1 -p "$DNS_PORT" +short www.test A AAAA mail.test
	assert_success
	assert_output $'192.0.2.1\n2001:db8::1\n192.0.2.25'
	# Before any name a type is for every name (with -t): both A and MX.
	run --separate-stderr rs "@$DNS" +short -t A MX test www.test
	assert_failure 4
	assert_output $'10 mail.test.\n192.0.2.1'
	[[ $stderr == *"resolve test A: nodata"*"resolve www.test MX: nodata"* ]]
	run rs "@$DNS" www.test IN AAAA +json +tcp
	assert_success
	run jsonf type transport answers.0.data <<<"$output"
	assert_output 'type="AAAA" transport="tcp" answers.0.data="2001:db8::1"'
	run rs "@$DNS" +time=0.2 +tries=1 x.slow.test
	assert_failure 7
	assert_output ";; x.slow.test A: timeout (timed out; 1 try, last $DNS over udp)"
	run rs "@$DNS" +ignore +noedns -t TXT big.test +json
	run jsonf transport tc <<<"$output"
	assert_output 'transport="udp" tc=true'
	# An IPv6 server: [::1]:PORT and ::1#PORT (dnsmasq is on 127.0.0.1
	# only, so ::1 has nothing listening: that the address is taken is
	# what counts).
	run rs "@[::1]:$DNS_PORT" --tries 1 www.test
	assert_failure 7
	assert_output --partial "last [::1]:$DNS_PORT over udp"
	run rs "@::1#$DNS_PORT" --tries 1 www.test
	assert_output --partial "last [::1]:$DNS_PORT over udp"
}

@test "a host named like a type or class: its final dot, or after --; no server, no types" {
	run rs "@$DNS" +short mx. in.
	assert_success
	assert_output $'192.0.2.80\n192.0.2.81'
	run rs "@$DNS" +short www.test -- mx in
	assert_success
	assert_output $'192.0.2.1\n192.0.2.80\n192.0.2.81'
	run --separate-stderr rs "@$DNS" mx
	assert_failure 2
	assert_equal "$stderr" "sockctl resolve: nothing to look up: 'mx' is a record type here (a host of that name: write 'mx.') (see 'sockctl resolve --help')"
	run --separate-stderr rs "@$DNS" www.test CH TXT
	assert_failure 2
	[[ $stderr == *"class 'CH': only IN is asked for here (write 'CH.' for a host of that name)"* ]]
	# Without a server an operand is a name (numeric here: no lookup).
	run rs +short -n 192.0.2.7
	assert_success
	assert_output 192.0.2.7
}

@test "dig options and servers that are not understood are refused, with the list" {
	run --separate-stderr rs +trace "@$DNS" www.test
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "sockctl resolve: unknown dig option '+trace' (known: +short, +json, +tcp, +notcp, +tls, +ignore, +noedns, +time=SECS, +tries=N, +retry=N) (see 'sockctl resolve --help')"
	run --separate-stderr rs +time=0 "@$DNS" www.test
	assert_failure 2
	[[ $stderr == *"invalid +time=0"* ]]
	run --separate-stderr rs @ns1.example www.test
	assert_failure 2
	[[ $stderr == *"invalid server 'ns1.example' (use IP, IP:PORT, [IPv6]:PORT or IP#PORT)"* ]]
	run --separate-stderr rs -p 5353 www.test
	assert_failure 2
	[[ $stderr == *"need --server or @SERVER"* ]]
	run --separate-stderr rs "@$DNS" -p 0 www.test
	assert_failure 2
	[[ $stderr == *"invalid -p '0'"* ]]
}

@test "-t with an empty type is a usage error, not a query for A" {
	local t
	for t in '' 'A,' ',MX' 'A,,MX'; do
		run --separate-stderr r -t "$t" www.test
		assert_failure 2
		assert_output ""
		# An empty value is refused for every option alike.
		if [[ -z $t ]]; then
			[[ $stderr == *"option '-t' needs a value"* ]] || fail "-t '': $stderr"
		else
			[[ $stderr == *"empty record type in -t '$t'"* ]] || fail "-t '$t': $stderr"
		fi
	done
}

# Whitespace-normalized answer lines of a zone transfer, sorted.
zone_lines() {
	grep -v '^;' | awk 'NF { $1 = $1; print }' | sort
}

@test "-t AXFR: the zone from dnsmasq, the records dig AXFR gets, SOA first and last" {
	run --separate-stderr rs --server "$AXFR_DNS" -t AXFR axfr.example
	assert_success
	local n=${#lines[@]}
	assert_line --index 0 --regexp $'^axfr\\.example\\.\t300\tIN\tSOA\tns1\\.axfr\\.example\\. hostmaster\\.axfr\\.example\\. 2026120101 '
	[[ ${lines[n - 2]} == "${lines[0]}" ]] || fail "the last record is not the SOA: ${lines[n - 2]}"
	assert_line --index $((n - 1)) --regexp "^;; axfr\\.example AXFR: ok \\(NOERROR\\) from $AXFR_DNS over tcp in [0-9]+ ms: $((n - 1)) records in 1 message, [0-9]+ bytes\$"
	assert_line $'evil.axfr.example.\t300\tIN\tTXT\t"esc\\027[2J bell\\007 hi\\255"'
	assert_line $'axfr.example.\t300\tIN\tCAA\t0 issue "ca.example"'
	diff <(printf '%s\n' "${lines[@]}" | zone_lines) \
		<(dig AXFR @127.0.0.1 -p "$AXFR_PORT" axfr.example +noall +answer | zone_lines) ||
		fail "the records differ from dig's"
	# The type word works as well, and --short and --json.
	run rs "@$AXFR_DNS" +short AXFR axfr.example
	assert_success
	assert_line --index 0 --regexp '^ns1\.axfr\.example\. hostmaster\.axfr\.example\. 2026120101 '
	[ "${#lines[@]}" -eq $((n - 1)) ]
	run rs "@$AXFR_DNS" --json axfr.example AXFR
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	run jsonf query kind type status exit rcode server transport messages records answers.0.type <<<"$output"
	assert_output "query=\"axfr.example\" kind=\"axfr\" type=\"AXFR\" status=\"ok\" exit=0 rcode=\"NOERROR\" server=\"$AXFR_DNS\" transport=\"tcp\" messages=1 records=$((n - 1)) answers.0.type=\"SOA\""
}

@test "AXFR among other lookups: everything in the order asked" {
	run --separate-stderr rs "@$AXFR_DNS" +short www.axfr.example axfr.example AXFR mail.axfr.example
	assert_success
	assert_line --index 0 192.0.2.1
	assert_line --index 1 --regexp '^ns1\.axfr\.example\. hostmaster'
	assert_line --index $((${#lines[@]} - 2)) --regexp '^ns1\.axfr\.example\. hostmaster'
	assert_line --index $((${#lines[@]} - 1)) 192.0.2.25
}

@test "AXFR from dnsmasq: refused for another zone, nodata for a name that is not a zone" {
	run --separate-stderr rs --server "$AXFR_DNS" -t AXFR other.example
	assert_failure 6
	assert_output ";; other.example AXFR: refused (REFUSED: the server refuses this transfer) from $AXFR_DNS over tcp"
	run --separate-stderr rs --server "$AXFR_DNS" -t AXFR www.axfr.example
	assert_failure 4
	assert_output ";; www.axfr.example AXFR: nodata (no records: www.axfr.example. is not a zone of this server) from $AXFR_DNS over tcp"
	run rs --server "$AXFR_DNS" -t AXFR --json other.example
	run jsonf status exit rcode records error <<<"$output"
	assert_output 'status="refused" exit=6 rcode="REFUSED" records=0 error="the server refuses this transfer"'
}

@test "AXFR from misbehaving servers: every outcome has its own message and status" {
	peer multi axfr-multi
	run rs --server "$PEER" -t AXFR zone
	assert_success
	[ "${#lines[@]}" -eq 7 ]
	assert_line --index 0 $'zone.\t60\tIN\tSOA\tns.zone. admin.zone. 7 3600 600 86400 300'
	assert_line --index 1 $'zone.\t60\tIN\tNS\tns.zone.'
	assert_line --index 2 $'a.zone.\t60\tIN\tA\t192.0.2.1'
	assert_line --index 3 $'b.zone.\t60\tIN\tA\t192.0.2.2'
	assert_line --index 4 $'t.zone.\t60\tIN\tTXT\t"hello"'
	assert_line --index 5 "${lines[0]}"
	assert_line --index 6 --regexp "^;; zone AXFR: ok \\(NOERROR\\) from $PEER over tcp in [0-9]+ ms: 6 records in 3 messages, 259 bytes\$"
	peer notauth axfr-notauth
	run rs --server "$PEER" -t AXFR zone
	assert_failure 5
	assert_output ";; zone AXFR: servfail (NOTAUTH: the server is not authoritative for it) from $PEER over tcp"
	peer cut axfr-close
	run --separate-stderr rs --server "$PEER" -t AXFR zone
	assert_failure 7
	assert_line --index 1 $'a.zone.\t60\tIN\tA\t192.0.2.1'
	assert_line --index 2 ";; zone AXFR: closed (connection closed after 2 records in 1 message, before the closing SOA) from $PEER over tcp"
	peer stall axfr-stall
	run --separate-stderr rs --server "$PEER" --timeout 0.3 -t AXFR --json zone
	assert_failure 7
	run jsonf status exit records messages answers.1.data error <<<"$output"
	assert_output 'status="timeout" exit=7 records=2 messages=1 answers.1.data="192.0.2.1" error="timed out after 2 records in 1 message, before the closing SOA"'
	peer nosoa axfr-nosoa
	run rs --server "$PEER" -t AXFR zone
	assert_failure 1
	assert_output ";; zone AXFR: error (the transfer does not start with the SOA of zone.) from $PEER over tcp"
	peer badid axfr-badid
	run rs --server "$PEER" -t AXFR zone
	assert_failure 1
	assert_output --regexp "^;; zone AXFR: error \\(message 1 has id [0-9]+, the query had [0-9]+\\) from $PEER over tcp\$"
	# Our query sent back is skipped, as over UDP: then nothing comes.
	peer query axfr-query
	run rs --server "$PEER" --timeout 0.3 --tries 1 -t AXFR zone
	assert_failure 7
	assert_output ";; zone AXFR: timeout (timed out; 1 try, last $PEER over tcp)"
	local p
	p=$(closed_port)
	run rs --server "127.0.0.1:$p" --tries 2 -t AXFR --json zone
	assert_failure 7
	run jsonf status exit attempts error <<<"$output"
	assert_output 'status="unreachable" exit=7 attempts=2 error="connection refused"'
	# A server that does not answer: the next one is asked.
	run rs --server "127.0.0.1:$p" --server "$AXFR_DNS" --tries 1 +short -t AXFR axfr.example
	assert_success
	assert_line --index 0 --regexp '^ns1\.axfr\.example\. '
}
