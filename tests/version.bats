#!/usr/bin/env bats
# --version: the version, then what the build has, one "name: value" line
# each (or one JSON object with --json), checked against the libraries'
# own word (pkg-config, openssl version) and the build's config.h.
load helpers

NAMES=(tls tls-build ktls c-ares libedit zlib brotli crypt mux)

setup() {
	CONFIG_H=$(dirname "$SOCKCTL")/config.h
	[[ -f $CONFIG_H ]] || skip "no config.h beside $SOCKCTL"
}

# built MACRO: does the build's config.h define MACRO?
built() {
	grep -q "^#define $1 1\$" "$CONFIG_H"
}

# value NAME: the value of the line "NAME: value" of $output.
value() {
	local l
	for l in "${lines[@]}"; do
		[[ $l == "$1: "* ]] && { printf '%s\n' "${l#"$1: "}"; return 0; }
	done
	fail "no line '$1: ...' in: $output"
}

@test "--version: 'sockctl VERSION' first, then every fact once, in order" {
	run --separate-stderr "$SOCKCTL" --version
	assert_success
	[ -z "$stderr" ]
	local version
	version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$CONFIG_H")
	[ "${lines[0]}" = "sockctl $version" ]
	[ "${#lines[@]}" -eq $((${#NAMES[@]} + 1)) ]
	local i
	for i in "${!NAMES[@]}"; do
		[[ ${lines[i + 1]} == "${NAMES[i]}: "?* ]] ||
			fail "line $((i + 1)) is '${lines[i + 1]}', not '${NAMES[i]}: ...'"
	done
}

@test "--version --json is one JSON object equal to the text, keys in the same order" {
	run --separate-stderr "$SOCKCTL" --version
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/text"
	run --separate-stderr "$SOCKCTL" --version --json
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/json"
	run "$PY" - "$BATS_TEST_TMPDIR/text" "$BATS_TEST_TMPDIR/json" <<-'EOF'
		import json, sys
		text = open(sys.argv[1]).read().splitlines()
		doc = json.loads(open(sys.argv[2]).read())
		want = {"version": text[0].split(" ", 1)[1]}
		for line in text[1:]:
		    name, value = line.split(": ", 1)
		    if name == "mux":
		        want[name] = value.split(", ")
		    elif value in ("yes", "no"):
		        want[name] = value == "yes"
		    else:
		        want[name] = value
		assert list(doc) == list(want), (list(doc), list(want))
		assert doc == want, (doc, want)
		assert isinstance(doc["ktls"], bool)
		for name in ("tls", "tls-build", "zlib", "brotli"):
		    assert doc[name] is False or isinstance(doc[name], str), name
		print("same")
	EOF
	assert_success
	assert_output same
}

@test "--version: the libraries' versions are the ones pkg-config and openssl name" {
	command -v pkg-config >/dev/null || skip "no pkg-config"
	run "$SOCKCTL" --version
	assert_success
	[ "$(value c-ares)" = "$(pkg-config --modversion libcares)" ]
	[ "$(value libedit)" = "$(pkg-config --modversion libedit)" ]
	if built HAVE_ZLIB; then
		[ "$(value zlib)" = "$(pkg-config --modversion zlib)" ]
	else
		[ "$(value zlib)" = no ]
	fi
	if built HAVE_BROTLI; then
		[ "$(value brotli)" = "$(pkg-config --modversion libbrotlienc)" ]
	else
		[ "$(value brotli)" = no ]
	fi
	if pkg-config --exists libxcrypt; then
		[ "$(value crypt)" = "libxcrypt $(pkg-config --modversion libxcrypt)" ]
	else
		[ "$(value crypt)" = yes ]
	fi
	[ "$(value mux)" = "$("$SOCKCTL" --mux=help | grep -vx auto | paste -sd, | sed 's/,/, /g')" ]
}

@test "--version: TLS as OpenSSL runs and as it was built, and kTLS as the library was built" {
	built HAVE_OPENSSL || skip "a build without OpenSSL (tests/notls.bats checks 'tls: no')"
	command -v openssl >/dev/null || skip "no openssl program"
	run "$SOCKCTL" --version
	assert_success
	# "OpenSSL 3.0.17 1 Jul 2025 (Library: OpenSSL 3.0.17 1 Jul 2025)":
	# the part in brackets is the library that runs.
	local ov lib
	ov=$(openssl version)
	lib=${ov#*(Library: }
	lib=${lib%)}
	[ "$(value tls)" = "$lib" ]
	[[ $(value tls-build) == "OpenSSL $(pkg-config --modversion libssl) "* ]]
	local ktls
	# shellcheck disable=SC2046
	ktls=$(printf '#include <openssl/ssl.h>\n#ifdef OPENSSL_NO_KTLS\nno\n#else\nyes\n#endif\n' |
		cc -E -P $(pkg-config --cflags libssl) - | grep -xE 'yes|no')
	[ "$(value ktls)" = "$ktls" ]
}

@test "--version after a command's name, --json before or after it, and 'sockctl version'" {
	local want wantj c
	want=$("$SOCKCTL" --version)
	wantj=$("$SOCKCTL" --version --json)
	for c in serve connect udp-send resolve "chat serve" "chat connect" "http serve" \
		"http get" forward wait; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$T" "$SOCKCTL" $c --version
		assert_success
		[ "$output" = "$want" ] || fail "sockctl $c --version: $output"
		# shellcheck disable=SC2086
		run --separate-stderr timeout "$T" "$SOCKCTL" $c --version --json
		assert_success
		[ "$output" = "$wantj" ] || fail "sockctl $c --version --json: $output"
	done
	run "$SOCKCTL" --json --version
	assert_success
	[ "$output" = "$wantj" ]
	run "$SOCKCTL" resolve --json --version
	assert_success
	[ "$output" = "$wantj" ]
	run "$SOCKCTL" version
	assert_success
	[ "$output" = "$want" ]
	run "$SOCKCTL" version --json
	assert_success
	[ "$output" = "$wantj" ]
}

@test "--json without --version, and 'version' with anything else: one line, exit 2" {
	local args
	for args in "--json" "--json serve 0" "version --yaml" "version --json x"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$SOCKCTL" $args </dev/null
		[ "$status" -eq 2 ] || fail "sockctl $args: exit $status"
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
	done
	run --separate-stderr "$SOCKCTL" --json
	[ "$stderr" = "sockctl: --json goes with --version (sockctl --version --json) (see 'sockctl --help')" ]
}

@test "--version to a full stdout is a failure, not a silent success" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run bash -c '"$1" --version >/dev/full' _ "$SOCKCTL"
	[ "$status" -eq 1 ]
	run bash -c '"$1" --version --json >/dev/full' _ "$SOCKCTL"
	[ "$status" -eq 1 ]
	run bash -c '"$1" serve --version >/dev/full' _ "$SOCKCTL"
	[ "$status" -eq 1 ]
}
