#!/bin/sh
# The layers, checked in the sources (make check):
# 1. Library code (everything under src/ but src/tool/) never prints,
#    never exits and never includes a program header: it reports through
#    return values, error text and the log sink (core/log.h).
# 2. Connection I/O goes through streams: outside src/net/stream.c no
#    code calls send/recv/read/write/splice/sendfile/shutdown and their
#    kin on a descriptor, except on lines that say why it is not a
#    connection, with "not a stream:" in a comment on that line or the
#    line before (a pipe of our own, a file, a datagram socket, a probe).
# Prints each offence as FILE:LINE: text, one TAP test per rule.
set -u
src=${SOCKCTL_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/src
cd "$src" || exit 1

echo "1..2"

lib=$(find . -name '*.[ch]' ! -path './tool/*' | sort)
# shellcheck disable=SC2086
bad=$(grep -nE '(^|[^A-Za-z0-9_.>])(printf|fprintf|vprintf|vfprintf|dprintf|puts|fputs|putchar|putc|fputc|perror|exit|abort_msg|errmsg|vmsg|usage_error|errline|log_printf)[[:space:]]*\(|#include[[:space:]]*"tool/' $lib |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)')
if [ -z "$bad" ]; then
	echo "ok 1 library code never prints, exits or includes a program header"
else
	echo "not ok 1 library code never prints, exits or includes a program header"
	echo "$bad" | sed 's/^/# /'
fi

all=$(find . -name '*.[ch]' ! -path './net/stream.c' | sort)
# shellcheck disable=SC2086
hits=$(grep -nE '(^|[^A-Za-z0-9_.>])(send|recv|sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg|read|write|readv|writev|pread|pwrite|splice|sendfile|shutdown)[[:space:]]*\(' $all |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)')
bad=
old_ifs=$IFS
IFS='
'
for h in $hits; do
	f=${h%%:*}
	rest=${h#*:}
	n=${rest%%:*}
	case $h in *"not a stream:"*) continue ;; esac
	prev=$(sed -n "$((n - 1))p" "$f")
	case $prev in *"not a stream:"*) continue ;; esac
	bad="$bad$h
"
done
IFS=$old_ifs
if [ -z "$bad" ]; then
	echo "ok 2 connection I/O only through streams"
else
	echo "not ok 2 connection I/O only through streams"
	printf '%s' "$bad" | sed 's/^/# /'
fi
