#!/usr/bin/env bats
# The interactive chat client on a real terminal (tmux): typing, history,
# incoming lines above the prompt, colours and hostile escape sequences.
load helpers
load chat_lib

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	# A private tmux server per test: nothing shared with the user's; -u:
	# a UTF-8 terminal whatever the test's own locale.
	TM=(tmux -u -L "sockctl-chat-$$-$BATS_TEST_NUMBER" -f /dev/null)
}

teardown() {
	"${TM[@]}" kill-server 2>/dev/null || true
	teardown_common
}

# tty_start ARGS...: the client in an 80x24 tmux pane, in the locale
# $TTY_LOCALE (default C.UTF-8, which Debian always has).
tty_start() {
	"${TM[@]}" new-session -d -x 80 -y 24 \
		"env -u LC_ALL -u LC_CTYPE LANG=${TTY_LOCALE:-C.UTF-8} TERM=xterm-256color timeout --foreground $T '$SOCKCTL' chat connect $* 127.0.0.1 $port; sleep 30"
}

screen() {
	"${TM[@]}" capture-pane -p "$@"
}

# on_screen TEXT: waits until the pane shows TEXT.
on_screen() {
	local i
	for ((i = 0; i < T * 10; i++)); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	echo "'$1' never appeared on the screen:" >&2
	screen >&2
	return 1
}

# prompt_line: the last non-empty row of the pane.
prompt_line() {
	screen | grep -v '^$' | tail -n 1
}

# prompt_is TEXT: waits until the prompt row is exactly TEXT.
prompt_is() {
	local i
	for ((i = 0; i < T * 10; i++)); do
		[ "$(prompt_line)" = "$1" ] && return 0
		sleep 0.05
	done
	echo "the prompt row never became '$1':" >&2
	screen >&2
	return 1
}

# rows_with TEXT: how many rows of the pane hold TEXT.
rows_with() {
	screen | grep -cF -- "$1"
}

@test "chat tty: a message arriving mid-typing leaves the typed line intact" {
	chat_serve srv
	tty_start --name alice --color=never
	on_screen "*** you are now alice"
	"${TM[@]}" send-keys -l "half typed"
	on_screen "> half typed"
	nc_join bob bob
	say bob "hello while you type"
	on_screen "<bob> hello while you type"
	# The message is above the prompt, and the prompt still holds the
	# unfinished line with the cursor after it.
	[ "$(prompt_line)" = "> half typed" ]
	screen | grep -n . | grep -B1 -F "> half typed" | head -1 | grep -qF "hello while you type"
	"${TM[@]}" send-keys -l " and done"
	"${TM[@]}" send-keys Enter
	sees bob "<alice> half typed and done"
	on_screen "<alice> half typed and done"
	# The typed copy was replaced by the room's copy; the prompt is empty.
	[ "$(screen | grep -c 'half typed')" -eq 1 ]
	[ "$(prompt_line)" = ">" ]
	# History: Up brings the line back.
	"${TM[@]}" send-keys Up
	on_screen "> half typed and done"
}

@test "chat tty: escape sequences from others never reach the terminal; colours" {
	chat_serve srv
	tty_start --name carol --color=always
	on_screen "*** you are now carol"
	nc_join mallory mallory
	printf '\e]2;pwned\a\e[2J\e[31mred \e[1;1Hhome\r\n' >&"$mallory_fd"
	on_screen "<mallory> ]2;pwned[2J[31mred [1;1Hhome"
	[ "$("${TM[@]}" display-message -p '#{pane_title}')" != pwned ]
	# The name is coloured by the client; the text carries no escape.
	run bash -c "$(printf '%q ' "${TM[@]}") capture-pane -p -e | grep -F 'pwned'"
	[[ $output == *$'\e['*'mmallory'$'\e['*'> ]2;pwned[2J[31mred [1;1Hhome'* ]]
	# Ctrl-D on an empty line leaves.
	"${TM[@]}" send-keys C-d
	sees mallory "*** carol left (quit)"
}

@test "chat tty: non-ASCII typed at the prompt reaches the room byte for byte" {
	chat_serve srv
	nc_join bob bob
	tty_start --name alice --color=never
	on_screen "*** you are now alice"
	local text=$'h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e'
	[ "$text" = "héllo wörld ✓ 日本語" ]
	"${TM[@]}" send-keys -l "$text"
	prompt_is "> $text"
	"${TM[@]}" send-keys Enter
	sees bob "<alice> $text"
	grep -qx -- "<alice> $text" "$BATS_TEST_TMPDIR/bob.out"
	# The typed copy gave way to the room's copy.
	on_screen "<alice> $text"
	[ "$(rows_with "$text")" -eq 1 ]
	prompt_is ">"

	# Editing keys work on whole characters: Backspace takes the ö, Left
	# steps over one wide character, Backspace then takes the 日.
	"${TM[@]}" send-keys -l "日本語ö"
	prompt_is "> 日本語ö"
	"${TM[@]}" send-keys BSpace
	prompt_is "> 日本語"
	"${TM[@]}" send-keys Left Left BSpace
	prompt_is "> 本語"
	"${TM[@]}" send-keys Enter
	sees bob "<alice> 本語"
	grep -qx -- "<alice> 本語" "$BATS_TEST_TMPDIR/bob.out"
	# Nothing else reached the room: no stray or replacement bytes.
	[ "$(grep -c '^<alice>' "$BATS_TEST_TMPDIR/bob.out")" -eq 2 ]
	run grep -c $'\xef\xbf\xbd' "$BATS_TEST_TMPDIR/bob.out"
	[ "$output" = 0 ]
}

@test "chat tty: a typed line that wraps is taken off the screen whole (wide characters, a full row)" {
	chat_serve srv
	nc_join bob bob
	tty_start --name alice --color=never
	on_screen "*** you are now alice"
	# 48 double-width characters: 96 columns after the prompt, two rows
	# (the line breaks before a character that does not fit).
	local wide
	wide=$(printf '語%.0s' {1..48})
	"${TM[@]}" send-keys -l "$wide"
	prompt_is "$(printf '語%.0s' {1..9})"
	[ "$(rows_with 語)" -eq 2 ]
	"${TM[@]}" send-keys Enter
	sees bob "<alice> $wide"
	on_screen "<alice> 語語語"
	prompt_is ">"
	# Only the room's copy is left: "<alice> " and 96 columns, two rows.
	[ "$(rows_with 語)" -eq 2 ]
	screen | grep -qx "<alice> $(printf '語%.0s' {1..36})"

	# Prompt and text exactly filling the row put the cursor on the next
	# row: that row counts too.
	local full
	full=$(printf 'x%.0s' {1..78})
	"${TM[@]}" send-keys -l "$full"
	prompt_is "> $full"
	"${TM[@]}" send-keys Enter
	sees bob "<alice> $full"
	on_screen "<alice> xxxxxxxx"
	prompt_is ">"
	[ "$(rows_with xxxxxxxx)" -eq 1 ]
}

@test "chat tty: in the C locale the terminal is taken to speak UTF-8" {
	chat_serve srv
	nc_join bob bob
	TTY_LOCALE=C tty_start --name alice --color=never
	on_screen "*** you are now alice"
	"${TM[@]}" send-keys -l "grüße✓"
	prompt_is "> grüße✓"
	"${TM[@]}" send-keys BSpace Enter
	sees bob "<alice> grüße"
	grep -qx -- $'<alice> gr\xc3\xbc\xc3\x9fe' "$BATS_TEST_TMPDIR/bob.out"
	# Incoming UTF-8 is shown as it is.
	say bob "ça va ✓"
	on_screen "<bob> ça va ✓"
}

@test "chat tty: a locale in ISO-8859-1 is converted to and from the room's UTF-8" {
	command -v localedef >/dev/null || skip "localedef is not installed"
	local loc=$BATS_TEST_TMPDIR/locale
	mkdir -p "$loc"
	localedef -i de_DE -f ISO-8859-1 "$loc/de_DE.ISO-8859-1" 2>/dev/null ||
		skip "cannot build the de_DE.ISO-8859-1 locale (Debian's locales package)"
	chat_serve srv
	nc_join bob bob
	# A pty in ISO-8859-1: what the client writes is read back as bytes.
	cat >"$BATS_TEST_TMPDIR/latin1_term.py" <<'EOF'
import os, pty, select, sys, time
sockctl, port, loc = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    env = {"PATH": os.environ["PATH"], "TERM": "xterm", "LOCPATH": loc,
           "LANG": "de_DE.ISO-8859-1"}
    os.execve(sockctl, [sockctl, "chat", "connect", "--name", "lat", "--color=never",
                        "127.0.0.1", port], env)
seen = b""
def wait_for(what):
    global seen
    while what not in seen:
        select.select([fd], [], [])
        try:
            seen += os.read(fd, 65536)
        except OSError:
            sys.exit("the client is gone; it wrote %r" % seen)
wait_for(b"you are now lat")
# "grüße" in ISO-8859-1, then Enter.
os.write(fd, b"gr\xfc\xdfe\r")
# The room's copy comes back in ISO-8859-1 too.
wait_for(b"<lat> gr\xfc\xdfe\r")
print("sent", flush=True)
# From bob: "ñ" exists in ISO-8859-1, "€" is transliterated, "日" has no
# form and becomes "?".
wait_for(b"<bob> \xf1 EUR ?\r")
os.write(fd, b"\x04")
os.waitpid(pid, 0)
print("ok")
EOF
	start_bg pty timeout "$T" "$PY" "$BATS_TEST_TMPDIR/latin1_term.py" "$SOCKCTL" "$port" "$loc"
	sees bob "<lat> grüße"
	grep -qx -- $'<lat> gr\xc3\xbc\xc3\x9fe' "$BATS_TEST_TMPDIR/bob.out"
	say bob "ñ € 日"
	wait_exit "$pty_pid"
	[ "$status" -eq 0 ] || fail "the pty side failed: $(cat "$BATS_TEST_TMPDIR/pty.err")"
	grep -qx ok "$BATS_TEST_TMPDIR/pty.out"
}
