#!/usr/bin/env bash
# TLS: bulk transfer and echo round trips, sockctl against socat and ncat,
# all in the same run, the tools interleaved.
#
# 1. Bulk: a SIZE_MIB file through `sockctl connect --tls` -> `sockctl
#    serve --tls` -> /dev/null, against socat OPENSSL / OPENSSL-LISTEN
#    (-b 1048576 and default) and ncat --ssl, all on TLS 1.3 with
#    TLS_AES_256_GCM_SHA384 (OpenSSL's first choice, which socat and ncat
#    take by default; sockctl is given it) and one P-256 certificate. Then
#    `openssl speed -evp aes-256-gcm` on one core: the crypto limit.
#    Median over REPEAT runs of GiB/s (wall clock) and of CPU seconds per
#    GiB (both ends). Before the timed runs every pair moves a random
#    file into a file that is compared with cmp: a peer that does not
#    deliver does not get measured.
# 2. Echo: 50 connections x 64-byte round trips (bench/echoload.c, -T for
#    TLS) against `serve --echo -k` and `serve --tls --echo -k` of the
#    same binary: TLS's cost per round trip (server pinned to core 0, the
#    load to core 1).
#
#   bench/tls.sh                          # 2 GiB, 3 runs; echo 3 s x 3
#   SIZE_MIB=512 REPEAT=5 SECS=5 bench/tls.sh
#
# Targets: bulk >= 1.5x socat -b 1M, >= 2x ncat, >= 0.6x the crypto
# limit; echo over TLS >= 0.8x plaintext.
# shellcheck source=bench/lib.sh disable=SC2154,SC2034 # port, srv_pid: set by lib.sh
. "$(dirname "$0")/lib.sh"
need openssl socat ncat
: "${SIZE_MIB:=2048}"
: "${SLOW_MIB:=$((SIZE_MIB / 4))}"
: "${SECS:=3}"
: "${CONNS:=50}"
build_tools echoload

C=$TMP/cert.pem K=$TMP/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K" -out "$C" \
	-days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	2>/dev/null || die "openssl cannot make a certificate"
S=$SOCKCTL
SUITE=TLS_AES_256_GCM_SHA384
NAMES=("sockctl --tls" "socat -b 1048576" "socat (default)" "ncat --ssl")
SRV=("$S serve -v --tls --cert $C --key $K --ciphersuites $SUITE 0"
	"socat -u -b 1048576 OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$C,key=$K,verify=0 STDOUT"
	"socat -u OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$C,key=$K,verify=0 STDOUT"
	"ncat --ssl --ssl-cert $C --ssl-key $K -l 127.0.0.1 PORT || true")
CLI=("$S connect --tls --cacert $C --ciphersuites $SUITE 127.0.0.1 PORT"
	"socat -u -b 1048576 STDIN OPENSSL:127.0.0.1:PORT,cafile=$C"
	"socat -u STDIN OPENSSL:127.0.0.1:PORT,cafile=$C"
	"ncat --ssl --send-only 127.0.0.1 PORT")
SLOW=2 # socat's default 8 KiB buffer: moves SLOW_MIB
# (ncat's client ends with a bare FIN, no close_notify, and its server then
# exits 1; on this machine its server also drops the stream's tail, which
# the check below catches.)

machine
echo "# sockctl: $("$S" --version 2>&1 | head -n 1) at $S; $(openssl version)"

# Every pair must deliver a random file whole to be measured (sockctl
# must, or the run stops), and sockctl must negotiate $SUITE.
head -c $((4 * 1048576)) /dev/urandom >"$TMP/check"
declare -A LOST
RUN=()
for i in "${!NAMES[@]}"; do
	XFER_OUT=$TMP/got xfer "$TMP/check" $((4 * 1048576)) "${SRV[$i]}" "${CLI[$i]}" >/dev/null
	if cmp -s "$TMP/check" "$TMP/got"; then
		RUN+=("$i")
	else
		[ "$i" = 0 ] && die "${NAMES[0]}: the file arrived damaged or short"
		LOST[$i]="$(stat -c %s "$TMP/got") of $((4 * 1048576)) bytes arrived"
	fi
done
bg sum "$S" serve --tls --cert "$C" --key "$K" --respond x 0
wait_ready sum
timeout 10 "$S" connect -v --tls --cacert "$C" --ciphersuites "$SUITE" 127.0.0.1 "$port" \
	</dev/null >/dev/null 2>"$TMP/sum.cli" || die "sockctl connect --tls failed: $(cat "$TMP/sum.cli")"
grep -q "TLSv1.3 $SUITE" "$TMP/sum.cli" || die "sockctl did not negotiate $SUITE: $(cat "$TMP/sum.cli")"
kill "$sum_pid" 2>/dev/null

head -c $((SIZE_MIB * 1048576)) /dev/zero >"$TMP/big"
head -c $((SLOW_MIB * 1048576)) /dev/zero >"$TMP/small"
declare -A GB CPU
echo
echo "== bulk: $SIZE_MIB MiB -> TLS over TCP loopback -> /dev/null (median of $REPEAT)"
for ((r = 0; r < REPEAT; r++)); do
	for i in "${RUN[@]}"; do
		if [ "$i" = "$SLOW" ]; then
			out=$(xfer "$TMP/small" $((SLOW_MIB * 1048576)) "${SRV[$i]}" "${CLI[$i]}") || exit 1
		else
			out=$(xfer "$TMP/big" $((SIZE_MIB * 1048576)) "${SRV[$i]}" "${CLI[$i]}") || exit 1
		fi
		GB[$i]+="${out%% *} " CPU[$i]+="${out##* } "
	done
done
printf '  %-22s %8s %11s   %s\n' tool GiB/s CPU-s/GiB "runs (GiB/s)"
declare -A MG MC
for i in "${!NAMES[@]}"; do
	if [ -n "${LOST[$i]:-}" ]; then
		printf '  %-22s not measured: it lost data in the check (%s)\n' "${NAMES[$i]}" "${LOST[$i]}"
		MG[$i]=0 MC[$i]=0
		continue
	fi
	# shellcheck disable=SC2086 # the runs, one word each
	MG[$i]=$(median ${GB[$i]}) MC[$i]=$(median ${CPU[$i]})
	printf '  %-22s %8.3f %11.3f   %s\n' "${NAMES[$i]}" "${MG[$i]}" "${MC[$i]}" "${GB[$i]}"
done
# The crypto limit: one core encrypting 16 KiB records (a TLS record's size).
speed=$(taskset -c 0 openssl speed -evp aes-256-gcm -bytes 16384 -seconds 2 2>/dev/null |
	awk '/^(AES-256-GCM|aes-256-gcm)/ { v = $NF; sub(/k$/, "", v); print v * 1000 / 2^30 }')
[ -n "$speed" ] || die "openssl speed printed nothing usable"
printf '  %-22s %8.3f   (openssl speed -evp aes-256-gcm, 16 KiB, one core)\n' "crypto limit" "$speed"
echo "  ratios of medians, GiB/s (CPU per GiB: peer/sockctl, > 1 means sockctl uses less):"
# vs I TARGET: "NAME Rx (cpu Cx; target >= TARGET)", or why not.
vs() {
	if [ -n "${LOST[$1]:-}" ]; then
		echo "vs ${NAMES[$1]}: not measured"
	else
		echo "vs ${NAMES[$1]} $(ratio "${MG[0]}" "${MG[$1]}")x" \
			"(cpu $(ratio "${MC[$1]}" "${MC[0]}")x${2:+; target >= $2})"
	fi
}
echo "    $(vs 1 1.5)   $(vs 2)"
echo "    $(vs 3 2)   vs crypto limit $(ratio "${MG[0]}" "$speed")x (target >= 0.6)"

# echo_run ECHOLOAD-FLAGS CMD...: "trips/s server-CPU-us/trip" for one run.
echo_run() {
	local flags=$1
	shift
	# shellcheck disable=SC2086 # ON_SERVER, flags: words
	bg srv $ON_SERVER "$@"
	wait_ready srv
	# shellcheck disable=SC2086
	echo_load echo $flags
}

echo
echo "== echo: $CONNS connections x 64-byte round trips, $SECS s per run, median of $REPEAT"
R_PLAIN="" R_TLS="" U_PLAIN="" U_TLS=""
for ((r = 0; r < REPEAT; r++)); do
	out=$(echo_run "" "$S" serve --echo -k 0)
	R_PLAIN+="${out%% *} " U_PLAIN+="${out##* } "
	out=$(echo_run -T "$S" serve --tls --cert "$C" --key "$K" --ciphersuites "$SUITE" \
		--echo -k 0)
	R_TLS+="${out%% *} " U_TLS+="${out##* } "
done
# shellcheck disable=SC2086
{
	mp=$(median $R_PLAIN) mt=$(median $R_TLS) up=$(median $U_PLAIN) ut=$(median $U_TLS)
}
printf '  %-28s %9s %12s   %s\n' server trips/s "CPU us/trip" "runs (trips/s)"
printf '  %-28s %9.0f %12.2f   %s\n' "serve --echo -k" "$mp" "$up" "$R_PLAIN"
printf '  %-28s %9.0f %12.2f   %s\n' "serve --tls --echo -k" "$mt" "$ut" "$R_TLS"
echo "  TLS / plaintext: $(ratio "$mt" "$mp")x trips/s (target >= 0.8), CPU per trip $(ratio "$ut" "$up")x"
machine
