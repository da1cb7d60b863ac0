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
# 3. No two structs, unions or enums in the program share a name.
# Comments and string literals are left out before looking for calls.
# Prints each offence as FILE:LINE: text, one TAP test per rule.
set -u
src=${SOCKCTL_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/src
cd "$src" || exit 1

# code FILES...: "FILE:LINE:text" for every line, with string literals
# emptied and comments removed (a comment spanning lines included).
code() {
	awk '
	FNR == 1 { incom = 0 }
	{
		s = $0; out = ""
		while (length(s)) {
			if (incom) {
				i = index(s, "*/")
				if (!i) { s = ""; break }
				s = substr(s, i + 2); incom = 0; continue
			}
			c = substr(s, 1, 1); two = substr(s, 1, 2)
			if (two == "/*") { incom = 1; s = substr(s, 3); continue }
			if (two == "//") break
			if (c == "\"" || c == "\047") {
				q = c; j = 2
				while (j <= length(s)) {
					d = substr(s, j, 1)
					if (d == "\\") { j += 2; continue }
					if (d == q) break
					j++
				}
				out = out q q; s = substr(s, j + 1); continue
			}
			out = out c; s = substr(s, 2)
		}
		print FILENAME ":" FNR ":" out
	}' "$@"
}

echo "1..3"

lib=$(find . -name '*.[ch]' ! -path './tool/*' | sort)
# shellcheck disable=SC2086
bad=$( (code $lib | grep -E '^[^:]+:[0-9]+:.*(^|[^A-Za-z0-9_.>])(printf|fprintf|vprintf|vfprintf|dprintf|puts|fputs|putchar|putc|fputc|perror|exit|errmsg|vmsg|usage_error|errline|log_printf)[[:space:]]*\(' |
	cut -d: -f1,2 | while IFS=: read -r f n; do echo "$f:$n:$(sed -n "${n}p" "$f")"; done
	grep -nE '#include[[:space:]]*"tool/' $lib) | sort -t: -k1,1 -k2,2n)
if [ -z "$bad" ]; then
	echo "ok 1 library code never prints, exits or includes a program header"
else
	echo "not ok 1 library code never prints, exits or includes a program header"
	echo "$bad" | sed 's/^/# /'
fi

all=$(find . -name '*.[ch]' ! -path './net/stream.c' | sort)
# shellcheck disable=SC2086
hits=$(code $all | grep -E '^[^:]+:[0-9]+:.*(^|[^A-Za-z0-9_.>])(send|recv|sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg|read|write|readv|writev|pread|pwrite|splice|sendfile|shutdown)[[:space:]]*\(')
bad=
old_ifs=$IFS
IFS='
'
for h in $hits; do
	f=${h%%:*}
	rest=${h#*:}
	n=${rest%%:*}
	if [ "$n" -gt 1 ]; then
		lines=$(sed -n "$((n - 1)),${n}p" "$f")
	else
		lines=$(sed -n "${n}p" "$f")
	fi
	case $lines in *"not a stream:"*) continue ;; esac
	bad="$bad$f:$n:$(sed -n "${n}p" "$f")
"
done
IFS=$old_ifs
if [ -z "$bad" ]; then
	echo "ok 2 connection I/O only through streams"
else
	echo "not ok 2 connection I/O only through streams"
	printf '%s' "$bad" | sed 's/^/# /'
fi

# shellcheck disable=SC2086
dups=$(code $all ./net/stream.c | sed -nE 's/^([^:]+):([0-9]+):[[:space:]]*(typedef[[:space:]]+)?(struct|union|enum)[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\{.*/\4 \5 \1:\2/p' |
	sort -k1,2 | awk '{k = $1 " " $2; n[k]++; w[k] = w[k] " " $3} END {for (k in n) if (n[k] > 1) print k ":" w[k]}' | sort)
if [ -z "$dups" ]; then
	echo "ok 3 no two structs, unions or enums share a name"
else
	echo "not ok 3 no two structs, unions or enums share a name"
	echo "$dups" | sed 's/^/# /'
fi
