#!/usr/bin/env bats
# The interactive chat client on a real terminal (tmux): typing, history,
# incoming lines above the prompt, colours and hostile escape sequences.
load helpers
load chat_lib

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	# A private tmux server per test: nothing shared with the user's.
	TM=(tmux -L "sockctl-chat-$$-$BATS_TEST_NUMBER" -f /dev/null)
}

teardown() {
	"${TM[@]}" kill-server 2>/dev/null || true
	teardown_common
}

# tty_start ARGS...: the client in an 80x24 tmux pane.
tty_start() {
	"${TM[@]}" new-session -d -x 80 -y 24 \
		"TERM=xterm-256color timeout --foreground $T '$SOCKCTL' chat connect $* 127.0.0.1 $port; sleep 30"
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
