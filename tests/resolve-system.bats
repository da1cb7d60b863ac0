#!/usr/bin/env bats
# resolve through the system resolver (getaddrinfo, getnameinfo,
# /etc/services, /etc/protocols), with names every machine has; and, in a
# private mount+network namespace whose resolv.conf points at a test
# dnsmasq, with controlled data.
load helpers

r() {
	timeout "$T" "$SOCKCTL" resolve "$@"
}

@test "localhost and numeric addresses: lines, --short, --json, -4, -6, -n" {
	run r -4 localhost
	assert_success
	assert_line $'localhost\t127.0.0.1\tstream,dgram,raw'
	run r --short 192.0.2.7 2001:db8::7
	assert_success
	assert_output $'192.0.2.7\n2001:db8::7'
	run r --json -4 localhost
	assert_success
	assert_output '{"query":"localhost","kind":"addresses","status":"ok","exit":0,"canonical":"localhost","addresses":[{"address":"127.0.0.1","family":"inet","socktypes":["stream","dgram","raw"]}]}'
	run r -6 --short 192.0.2.7
	assert_failure 4
	run --separate-stderr r -n --short 192.0.2.7 localhost
	assert_failure 3
	assert_output 192.0.2.7
	[[ $stderr == *"resolve localhost: nxdomain"* ]]
}

@test "-x: reverse lookups through getnameinfo" {
	run r -x 127.0.0.1
	assert_success
	assert_output --regexp $'^127\\.0\\.0\\.1\tlocalhost'
	run r -x --short 127.0.0.1
	assert_success
	assert_output --regexp '^localhost'
	# Operands that are not numeric addresses are still names, so
	# forward and reverse lookups go together (as with getent hosts, and
	# dig NAME -x ADDRESS).
	run r --short -4 -x 127.0.0.1 localhost
	assert_success
	assert_output $'localhost\n127.0.0.1'
}

@test "the README line: a name, an address, a service and a protocol in one call" {
	run --separate-stderr r -4 localhost -x 127.0.0.1 --service https --protocol icmp
	assert_success
	assert_line --index 0 ';; localhost: canonical name localhost'
	assert_line --index 1 $'localhost\t127.0.0.1\tstream,dgram,raw'
	assert_line --index 2 --regexp $'^127\\.0\\.0\\.1\tlocalhost'
	assert_line --index 3 $'https\t443/tcp'
	assert_line --index 4 $'https\t443/udp'
	assert_line --index 5 $'icmp\t1\tICMP'
	# In the order asked, whatever the kind.
	run r --short --protocol udp -x 127.0.0.1 --service 22/tcp -4 localhost
	assert_success
	assert_output $'17\nlocalhost\nssh\n127.0.0.1'
}

@test "--service and --protocol in both directions, like getent" {
	run r --service http --service 53/udp --service 443 --protocol tcp --protocol 17
	assert_success
	assert_line --index 0 --regexp $'^http\t80/tcp'
	assert_line --index 1 --regexp $'^domain\t53/udp'
	# Without /PROTO both tcp and udp are looked up.
	assert_line --index 2 $'https\t443/tcp'
	assert_line --index 3 $'https\t443/udp'
	assert_line --index 4 $'tcp\t6\tTCP'
	assert_line --index 5 $'udp\t17\tUDP'
	run r --short --service https/tcp --service 22 --protocol udp
	assert_success
	assert_output $'443\nssh\n17'
	run r --json --service 80/tcp --protocol icmp
	assert_success
	assert_line --index 0 --regexp '^\{"query":"80/tcp","kind":"service","status":"ok","exit":0,"services":\[\{"name":"http","port":80,"protocol":"tcp","aliases":\['
	assert_line --index 1 --regexp '^\{"query":"icmp","kind":"protocol","status":"ok","exit":0,"name":"icmp","number":1,'
	run --separate-stderr r --short --service no-such-service --service http/tcp
	assert_failure 3
	assert_output 80
	assert_equal "$stderr" "sockctl: resolve no-such-service: nxdomain (not found)"
	# A number out of range is a usage error before any lookup.
	run r --protocol 300
	assert_failure 2
	assert_output --partial "invalid --protocol '300'"
}

@test "--hostname and --fqdn" {
	run r --hostname
	assert_success
	assert_output "$(hostname)"
	run r --json --hostname
	assert_output "{\"query\":\"hostname\",\"kind\":\"hostname\",\"status\":\"ok\",\"exit\":0,\"name\":\"$(hostname)\"}"
	if getent ahosts "$(hostname)" >/dev/null; then
		run r --fqdn
		assert_success
		[[ $output == "$(hostname)"* ]]
	fi
}

# Runs a script inside a private user+mount+network namespace: lo up,
# a test dnsmasq on 127.0.0.1:53, /etc/resolv.conf and /etc/hosts
# bind-mounted over.
in_namespace() {
	unshare -rmn true 2>/dev/null ||
		skip "user/mount/network namespaces are unavailable here (unshare -rmn failed)"
	cat >"$BATS_TEST_TMPDIR/ns.sh" <<-EOS
		set -u
		ip link set lo up || exit 99
		source '$BATS_TEST_DIRNAME/dns-zone.bash'
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >'$BATS_TEST_TMPDIR/resolv.conf'
		printf '127.0.0.1 localhost\n192.0.2.99 fromhosts.test\n' >'$BATS_TEST_TMPDIR/hosts'
		mount --bind '$BATS_TEST_TMPDIR/resolv.conf' /etc/resolv.conf || exit 99
		mount --bind '$BATS_TEST_TMPDIR/hosts' /etc/hosts || exit 99
		dns_start '$BATS_TEST_TMPDIR' 53 >'$BATS_TEST_TMPDIR/dns.out' 2>&1 || { cat '$BATS_TEST_TMPDIR/dns.out'; exit 98; }
		trap "dns_stop '$BATS_TEST_TMPDIR'" EXIT
		S='$SOCKCTL'
		$1
	EOS
	run timeout "$T" unshare -rmn bash "$BATS_TEST_TMPDIR/ns.sh"
	[[ $status -ne 99 ]] || skip "cannot set up the namespace: $output"
}

@test "system resolver with controlled data in a private namespace: every outcome" {
	in_namespace '
		for n in www.test fromhosts.test nx.test txt.test refused.example; do
			$S resolve --short "$n"; echo "rc=$?"
		done
		$S resolve --json -4 www.test nx.test; echo "rc=$?"
		$S resolve -x 192.0.2.1; echo "rc=$?"
		$S resolve -x --short 192.0.2.66; echo "rc=$?"
		$S resolve +short -x 192.0.2.1 fromhosts.test; echo "rc=$?"
	' 2>&1
	assert_success
	assert_line --index 0 2001:db8::1
	assert_line --index 1 192.0.2.1
	assert_line --index 2 rc=0
	assert_line --index 3 192.0.2.99
	assert_line --index 4 rc=0
	assert_line --index 5 'sockctl: resolve nx.test: nxdomain (Name or service not known)'
	assert_line --index 6 rc=3
	assert_line --index 7 'sockctl: resolve txt.test: nodata (No address associated with hostname)'
	assert_line --index 8 rc=4
	# getaddrinfo folds REFUSED, SERVFAIL and timeouts into one error.
	assert_line --index 9 'sockctl: resolve refused.example: timeout (Temporary failure in name resolution)'
	assert_line --index 10 rc=7
	assert_line --index 11 --partial '"query":"www.test","kind":"addresses","status":"ok","exit":0,"canonical":"www.test","addresses":[{"address":"192.0.2.1","family":"inet"'
	assert_line --index 12 '{"query":"nx.test","kind":"addresses","status":"nxdomain","exit":3,"error":"Name or service not known"}'
	assert_line --index 13 rc=3
	assert_line --index 14 $'192.0.2.1\twww.test'
	assert_line --index 15 rc=0
	# glibc refuses a PTR target that is not a valid host name.
	assert_line --index 16 'sockctl: resolve 192.0.2.66: nxdomain (Name or service not known)'
	assert_line --index 17 rc=3
	assert_line --index 18 www.test
	assert_line --index 19 192.0.2.99
	assert_line --index 20 rc=0
}
