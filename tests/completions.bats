#!/usr/bin/env bats
# The completions, through each shell's own completion engine: bash and
# zsh interactive in a tmux pane, fish's `complete -C`. Every command
# offers exactly the options its --help names (plus the global ones),
# options with a fixed set of values offer those values, and the files
# install where each shell looks by default.
load helpers
load help_lib

COMP=$BATS_TEST_DIRNAME/../completions

# Options with a fixed set of values: "PATH OPTION:VALUES".
VALUE_SETS=(
	" --mux:auto select poll epoll"
	"serve --mux:auto select poll epoll"
	"serve --model:loop fork thread"
	"serve --stats:json text"
	"connect --proxy-type:http https socks4 socks5"
	"connect --proxy-dns:local remote"
	"connect --stats:json text"
	"connect --tls-min:1.2 1.3"
	"serve --tls-max:1.2 1.3"
	"resolve --type:A AAAA CNAME MX NS TXT SRV PTR SOA CAA HINFO ANY AXFR"
	"chat connect --color:auto always never"
	"http serve --symlinks:inside follow deny"
	"http serve --log-format:combined json none"
)

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	cd "$BATS_TEST_TMPDIR"
	# A private tmux server per test: nothing shared with the user's.
	TM=(tmux -L "sockctl-comp-$$-$BATS_TEST_NUMBER" -f /dev/null)
	mkdir -p bin files
	ln -sf "$SOCKCTL" bin/sockctl
	touch files/a.txt files/b.txt
	OUT=$BATS_TEST_TMPDIR/offered
}

teardown() {
	"${TM[@]}" kill-server 2>/dev/null || true
	teardown_common
}

# shell_start NAME CMD...: CMD in a 200x50 tmux pane, with a clean
# environment and bin/sockctl first on PATH.
shell_start() {
	local name=$1
	shift
	"${TM[@]}" new-session -d -s "$name" -x 200 -y 50 \
		env -i HOME="$BATS_TEST_TMPDIR" TERM=xterm LANG=C.UTF-8 \
		PATH="$BATS_TEST_TMPDIR/bin:/usr/bin:/bin" "$@"
}

# pane_until NAME WHAT CMD...: polls CMD until it succeeds; after $T s
# says WHAT did not happen, shows the pane NAME and fails.
pane_until() {
	local name=$1 what=$2 i
	shift 2
	for ((i = 0; i < T * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "$what, in:" >&2
	"${TM[@]}" capture-pane -p -t "$name" >&2
	return 1
}

# type_line NAME TEXT: types TEXT and Enter, then waits until TEXT has run.
type_line() {
	rm -f "$BATS_TEST_TMPDIR/ready"
	"${TM[@]}" send-keys -t "$1" -l "$2; touch $BATS_TEST_TMPDIR/ready"
	"${TM[@]}" send-keys -t "$1" Enter
	pane_until "$1" "the shell did not run: $2" test -e "$BATS_TEST_TMPDIR/ready"
}

# bash_start NAME [plain] [capture]: an interactive bash with the
# completion loaded (with bash-completion unless plain); with capture,
# every completion also writes its candidates to $OUT.
bash_start() {
	local name=$1 setup="PS1='$ '; cd files"
	shift
	[[ $* == *plain* ]] || setup+="; source /usr/share/bash-completion/bash_completion"
	setup+="; source '$COMP/sockctl'"
	[[ $* == *capture* ]] && setup+="; _sockctl_t() { _sockctl \"\$@\"; printf '%s\n' \"\${COMPREPLY[@]}\" >'$OUT.tmp'; mv '$OUT.tmp' '$OUT'; }; complete -F _sockctl_t sockctl"
	[[ $* == *plain* || -r /usr/share/bash-completion/bash_completion ]] ||
		skip "bash-completion is not installed (build-aux/install-deps.sh)"
	shell_start "$name" bash --norc --noprofile -i
	type_line "$name" "$setup"
}

# zsh_start NAME [capture]: an interactive zsh with compinit and the
# completion on fpath; with capture, every completion writes what it adds
# (compadd's words) to $OUT (which keeps zsh from inserting some of them).
zsh_start() {
	command -v zsh >/dev/null || skip "zsh is not installed (build-aux/install-deps.sh)"
	cat >"$BATS_TEST_TMPDIR/rc.zsh" <<-EOF
		PS1='%% '
		LISTMAX=1000
		fpath=('$COMP' \$fpath)
		autoload -Uz compinit && compinit -u -D
		cd files
	EOF
	[[ ${2-} == capture ]] && cat >>"$BATS_TEST_TMPDIR/rc.zsh" <<-EOF
		compadd() {
			local -a __m
			builtin compadd -O __m "\$@"
			(( \$#__m )) && print -rl -- \$__m >>'$OUT.tmp'
			builtin compadd "\$@"
		}
		_sockctl_t() { : >'$OUT.tmp'; zle complete-word; mv -f '$OUT.tmp' '$OUT' }
		zle -N _sockctl_t
		bindkey '^I' _sockctl_t
	EOF
	shell_start "$1" zsh -f -i
	type_line "$1" "source '$BATS_TEST_TMPDIR/rc.zsh'"
}

# offered NAME LINE: types LINE and Tab in the pane NAME and prints the
# candidates the completion produced, one a line; the line is then erased.
offered() {
	rm -f "$OUT"
	"${TM[@]}" send-keys -t "$1" -l "$2"
	"${TM[@]}" send-keys -t "$1" Tab
	pane_until "$1" "no completion for '$2'" test -e "$OUT" || return 1
	"${TM[@]}" send-keys -t "$1" C-u
	sort -u "$OUT"
}

# fish_offered LINE: the candidates of fish's own engine, the completion
# found on fish_complete_path as an installed one would be.
fish_offered() {
	timeout "$T" env -i HOME="$BATS_TEST_TMPDIR" PATH="$BATS_TEST_TMPDIR/bin:/usr/bin:/bin" \
		fish -c 'set -p fish_complete_path $argv[1]; complete -C $argv[2]' "$COMP" "$1" |
		cut -f1 | sort -u
}

# screen_line NAME: the pane's last row that holds a prompt.
screen_line() {
	"${TM[@]}" capture-pane -p -t "$1" | grep -E '^[$%] ' | tail -n 1
}

on_screen() {
	"${TM[@]}" capture-pane -p -t "$1" | grep -qF -- "$2"
}

# wait_screen NAME TEXT: waits until the pane shows TEXT.
wait_screen() {
	pane_until "$1" "'$2' never appeared" on_screen "$1" "$2"
}

# check_options SHELL OFFERED WANT GLOBAL PATH: every wanted option was
# offered and nothing else but global options.
check_options() {
	local o bad=""
	for o in $3; do
		grep -qx -- "$o" <<<"$2" || bad+=" missing $o;"
	done
	for o in $2; do
		grep -qx -- "$o" <<<"$3"$'\n'"$4" || bad+=" offers $o;"
	done
	[[ -z $bad ]] || fail "$1, sockctl $5:$bad"
}

@test "every shell offers the commands, and exactly each command's documented options" {
	command -v fish >/dev/null || skip "fish is not installed (build-aux/install-deps.sh)"
	bash_start b capture
	zsh_start z capture
	local p want global got cmds
	cmds=$(commands | sort)
	global=$(global_options)
	run offered b "sockctl "
	assert_equal "$(grep -v -- '^-' <<<"$output")" "$(sort <<<"$cmds"$'\n'help)"
	run offered z "sockctl "
	assert_equal "$output" "$(sort <<<"$cmds"$'\n'help)"
	run fish_offered "sockctl "
	assert_equal "$output" "$(sort <<<"$cmds"$'\n'help)"
	while read -r p; do
		want=$(help_options $p)
		got=$(offered b "sockctl $p --" | sed 's/=$//')
		check_options bash "$got" "$want" "$global" "$p"
		got=$(offered z "sockctl $p --")
		check_options zsh "$got" "$want" "$global" "$p"
		got=$(fish_offered "sockctl $p --")
		check_options fish "$got" "$want" "$global" "$p"
	done < <(command_paths)
}

@test "options with a fixed set of values offer those values, after '=' and as a word" {
	command -v fish >/dev/null || skip "fish is not installed (build-aux/install-deps.sh)"
	bash_start b capture
	zsh_start z capture
	local e path opt want line
	for e in "${VALUE_SETS[@]}"; do
		path=${e%% --*}
		opt=${e#"$path "}
		opt=${opt%%:*}
		want=$(tr ' ' '\n' <<<"${e#*:}" | sort)
		for line in "sockctl ${path:+$path }$opt=" "sockctl ${path:+$path }$opt "; do
			run offered b "$line"
			assert_equal "$output" "$want"
			run offered z "$line"
			assert_equal "$output" "$want"
			run fish_offered "$line"
			# fish repeats the option before values given after '='.
			assert_equal "${output//$opt=/}" "$want"
		done
	done
}

@test "bash in a terminal: values, not files, after --mux= --log-format= --color=; --dir= takes no space" {
	local mode
	for mode in bash-completion plain; do
		bash_start "$mode" "$mode"
		"${TM[@]}" send-keys -t "$mode" -l "sockctl --mux="
		"${TM[@]}" send-keys -t "$mode" Tab Tab
		wait_screen "$mode" "epoll"
		"${TM[@]}" capture-pane -p -t "$mode" | grep -E 'auto +epoll +poll +select' ||
			fail "$mode: --mux= lists no backends"
		! "${TM[@]}" capture-pane -p -t "$mode" | grep -F 'a.txt' || fail "$mode: --mux= lists files"
		"${TM[@]}" send-keys -t "$mode" C-u C-l
		"${TM[@]}" send-keys -t "$mode" -l "sockctl http serve --log-format="
		"${TM[@]}" send-keys -t "$mode" Tab Tab
		wait_screen "$mode" "combined"
		"${TM[@]}" send-keys -t "$mode" C-u C-l
		"${TM[@]}" send-keys -t "$mode" -l "sockctl chat connect --color=al"
		"${TM[@]}" send-keys -t "$mode" Tab
		"${TM[@]}" send-keys -t "$mode" -l "X"
		wait_screen "$mode" "--color=always X"
		"${TM[@]}" send-keys -t "$mode" C-u C-l
		# An option that wants '=' is completed up to it, no space.
		"${TM[@]}" send-keys -t "$mode" -l "sockctl http serve --di"
		"${TM[@]}" send-keys -t "$mode" Tab
		"${TM[@]}" send-keys -t "$mode" -l "X"
		wait_screen "$mode" "X"
		[[ $(screen_line "$mode") == "$ sockctl http serve --dir=X" ]] ||
			fail "$mode: --di completed to: $(screen_line "$mode")"
		"${TM[@]}" send-keys -t "$mode" C-u C-l
		# Options that take a file still complete file names.
		"${TM[@]}" send-keys -t "$mode" -l "sockctl serve -o a"
		"${TM[@]}" send-keys -t "$mode" Tab
		wait_screen "$mode" "sockctl serve -o a.txt"
	done
}

@test "zsh in a terminal: --di becomes --dir=, --mux= lists the backends" {
	zsh_start z
	"${TM[@]}" send-keys -t z -l "sockctl http serve --di"
	"${TM[@]}" send-keys -t z Tab
	"${TM[@]}" send-keys -t z -l "X"
	wait_screen z "X"
	[[ $(screen_line z) == "% sockctl http serve --dir=X" ]] ||
		fail "--di completed to: $(screen_line z)"
	"${TM[@]}" send-keys -t z C-u C-l
	"${TM[@]}" send-keys -t z -l "sockctl --mux=po"
	"${TM[@]}" send-keys -t z Tab
	"${TM[@]}" send-keys -t z -l "X"
	wait_screen z "X"
	[[ $(screen_line z) == "% sockctl --mux=poll X" ]] || fail "--mux=po: $(screen_line z)"
}

@test "fish: chat connect offers no connect options (--crlf), connect does" {
	command -v fish >/dev/null || skip "fish is not installed (build-aux/install-deps.sh)"
	run fish_offered "sockctl chat connect --cr"
	assert_output ""
	run fish_offered "sockctl connect -v --cr"
	assert_output "--crlf"
	run fish_offered "sockctl --mux poll http serve --di"
	assert_output "--dir"
}

@test "make install puts each completion in a directory its shell searches by default" {
	local build prefix f d
	build=$(dirname "$SOCKCTL")
	[[ -f $build/Makefile ]] || skip "no Makefile beside $SOCKCTL"
	prefix=$(sed -n 's/^prefix = //p' "$build/Makefile")
	[[ $prefix == /usr/local || $prefix == /usr ]] ||
		skip "prefix $prefix: only the default prefixes have known search paths"
	grep -q '^bashcompletiondir = .*completions$' "$build/Makefile" ||
		skip "completion directories chosen at configure time"
	make -s -C "$build" install-data DESTDIR="$BATS_TEST_TMPDIR/root" >/dev/null
	f=$(find "$BATS_TEST_TMPDIR/root" -name sockctl -path '*completion*')
	d=$(dirname "${f#"$BATS_TEST_TMPDIR/root"}")
	# bash-completion reads $XDG_DATA_DIRS/bash-completion/completions,
	# /usr/local/share:/usr/share when it is unset.
	[[ $d == /usr/local/share/bash-completion/completions || $d == /usr/share/bash-completion/completions ]] ||
		fail "bash completion in $d"
	if command -v zsh >/dev/null; then
		f=$(find "$BATS_TEST_TMPDIR/root" -name _sockctl)
		d=$(dirname "${f#"$BATS_TEST_TMPDIR/root"}")
		env -u XDG_DATA_DIRS zsh -fc 'print -rl -- $fpath' | grep -qx -- "$d" ||
			fail "zsh completion in $d, not in zsh's fpath"
	fi
	if command -v fish >/dev/null; then
		f=$(find "$BATS_TEST_TMPDIR/root" -name sockctl.fish)
		d=$(dirname "${f#"$BATS_TEST_TMPDIR/root"}")
		env -i HOME="$BATS_TEST_TMPDIR" PATH=/usr/bin:/bin fish -c 'printf "%s\n" $fish_complete_path' |
			grep -qx -- "$d" || fail "fish completion in $d, not in fish's search path"
	fi
}
