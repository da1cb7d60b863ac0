# The test PKI for tests/tls.bats, made by openssl req/ca in DIR:
#   root, other            two CAs (other: unknown to the clients)
#   inter                  an intermediate under root
#   good, good-chain.pem   localhost, 127.0.0.1, ::1 under inter (the
#                          chain file: leaf then intermediate)
#   expired, future        the same names, under root, no longer / not yet valid
#   wrongname              other.example under root
#   unknown                localhost under other
#   self                   self-signed, localhost and 127.0.0.1
#   alice, mallory         client certificates under root and under other
# Each NAME has NAME.pem and NAME.key.
make_test_pki() {
	mkdir -p "$1"
	cd "$1" || return 1
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
	openssl req -x509 "${ec[@]}" -keyout root.key -out root.pem -days 30 -subj "/CN=Test Root" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -x509 "${ec[@]}" -keyout other.key -out other.pem -days 30 -subj "/CN=Other Root" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	cat >ca.cnf <<-'EOF'
		[ca]
		default_ca = c
		[c]
		database = index.txt
		new_certs_dir = .
		serial = serial
		default_md = sha256
		policy = p
		unique_subject = no
		[p]
		commonName = supplied
	EOF
	: >index.txt
	echo 01 >serial
	local now past future far
	past=$(date -u -d '-2 days' +%Y%m%d%H%M%SZ)
	now=$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)
	future=$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)
	far=$(date -u -d '+20 days' +%Y%m%d%H%M%SZ)
	# sign NAME CN EXT CA START END
	sign() {
		openssl req -new "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
		printf '%s\n' "$3" >"$1.ext"
		openssl ca -batch -config ca.cnf -cert "$4.pem" -keyfile "$4.key" -in "$1.csr" \
			-out "$1.pem" -startdate "$5" -enddate "$6" -extfile "$1.ext" -notext 2>/dev/null
	}
	local leaf='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth'
	sign inter "Test Intermediate" 'basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign' root "$now" "$far"
	sign good localhost "$leaf" inter "$now" "$far"
	cat good.pem inter.pem >good-chain.pem
	sign expired localhost "$leaf" root "$past" "$now"
	sign future localhost "$leaf" root "$future" "$far"
	sign wrongname other.example 'subjectAltName=DNS:other.example
extendedKeyUsage=serverAuth' root "$now" "$far"
	sign unknown localhost "$leaf" other "$now" "$far"
	sign alice alice 'extendedKeyUsage=clientAuth' root "$now" "$far"
	sign mallory mallory 'extendedKeyUsage=clientAuth' other "$now" "$far"
	openssl req -x509 "${ec[@]}" -keyout self.key -out self.pem -days 30 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	[[ -s good.pem && -s expired.pem && -s future.pem && -s alice.pem && -s self.pem ]]
}

# make_soon_leaf DIR: in the PKI that make_test_pki made in DIR, soon.pem
# and soon.key: localhost and 127.0.0.1 under root, ending 10 days less an
# hour from now (9 whole days left, whenever in that hour it is read: for
# --expires-within).
make_soon_leaf() {
	cd "$1" || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout soon.key -out soon.csr -subj /CN=localhost 2>/dev/null &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >soon.ext &&
		openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -in soon.csr -out soon.pem \
			-startdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" \
			-enddate "$(date -u -d '+10 days -1 hour' +%Y%m%d%H%M%SZ)" -extfile soon.ext -notext 2>/dev/null
}

# pki_setup_file: the test PKI, made once for a bats file (from its
# setup_file), in $PKI (exported) under $BATS_FILE_TMPDIR.
pki_setup_file() {
	export PKI=$BATS_FILE_TMPDIR/pki
	(make_test_pki "$PKI")
}

# pki_vars: $CA, the test root, and GOOD, the options that serve the good
# chain (--cert, --key); from a test's setup.
pki_vars() {
	CA=$PKI/root.pem
	GOOD=(--cert "$PKI/good-chain.pem" --key "$PKI/good.key")
}
