#!/bin/sh
# Installs everything sockctl needs to build, test and benchmark on Debian 12.
# Run as root (or through sudo). Idempotent.
set -eu
export DEBIAN_FRONTEND=noninteractive
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake pkg-config clang \
	libc-ares-dev libedit-dev libssl-dev openssl \
	libcrypt-dev zlib1g-dev libbrotli-dev \
	bats bats-assert bats-support \
	netcat-openbsd ncat socat curl bind9-dnsutils dnsmasq-base \
	nginx-light python3 tmux iproute2 procps psmisc ca-certificates \
	iperf3 util-linux wrk busybox microsocks dante-server mandoc man-db \
	zsh fish bash-completion gnutls-bin \
	redis-server \
	>/dev/null
# The Debian package (.ci/deb-check): dpkg-buildpackage, dh, lintian.
$SUDO apt-get install -y -qq --no-install-recommends dpkg-dev debhelper lintian >/dev/null
# forward: haproxy (PROXY protocol tests, bench) and rinetd (bench).
$SUDO apt-get install -y -qq --no-install-recommends haproxy rinetd >/dev/null
