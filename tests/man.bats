#!/usr/bin/env bats
# The manual and the help: every page lint-clean, every command and
# subcommand with a page of its name and a help of its own, and no help
# that names an option its command refuses.
load helpers
load help_lib

MAN=$BATS_TEST_DIRNAME/../man

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "the commands with subcommands are found (the other tests rely on it)" {
	run command_paths
	assert_line "serve"
	assert_line "chat serve"
	assert_line "chat connect"
	assert_line "http serve"
	assert_line "http get"
}

@test "mandoc -T lint -W warning: every page is clean" {
	command -v mandoc >/dev/null || skip "mandoc is not installed (build-aux/install-deps.sh)"
	local f out bad=0
	for f in "$MAN"/*.1; do
		out=$(mandoc -T lint -W warning "$f" 2>&1) || true
		if [[ -n $out ]]; then
			echo "$out" >&2
			bad=1
		fi
	done
	((bad == 0))
}

@test "sockctl(1) gives every command its own tagged paragraph" {
	local c
	# The tag lines of the list of commands: the line after each .TP.
	run awk '/^\.SH DESCRIPTION/ { on = 1; next } /^\.SH/ { on = 0 }
		on && tag { gsub(/\\-/, "-"); print; tag = 0 } on && /^\.TP/ { tag = 1 }' "$MAN/sockctl.1"
	for c in $(commands); do
		[[ $output =~ (^|$'\n')\.B\ $c($|[^a-z-]) ]] || fail "no .TP entry for $c in sockctl.1"
	done
	# An entry that lost its .TP runs into the paragraph before it.
	run awk -v cmds="$(commands | tr '\n' ' ')" '
		BEGIN { n = split(cmds, c, " "); for (i = 1; i <= n; i++) is[c[i]] = 1 }
		/^\.SH DESCRIPTION/ { on = 1; next } /^\.SH/ { on = 0 }
		{ w = $2; gsub(/\\-/, "-", w) }
		on && $1 == ".B" && (w in is) && prev !~ /^\.TP/ { print } { prev = $0 }' "$MAN/sockctl.1"
	assert_output ""
}

@test "SEE ALSO in sockctl(1) names every page; every sockctl page a page names exists" {
	local f name refs
	refs=$(sed -n '/^\.SH SEE ALSO/,$p' "$MAN/sockctl.1")
	for f in "$MAN"/sockctl-*.1; do
		name=$(basename "$f" .1)
		[[ $refs == *"${name//-/\\-} (1)"* ]] || fail "SEE ALSO of sockctl.1 lacks $name"
	done
	for name in $(cat "$MAN"/*.1 | grep -o 'sockctl\(\\-[a-z]*\)* (1)' | sed 's/\\-/-/g; s/ (1)//' | sort -u); do
		[[ -f $MAN/$name.1 ]] || fail "a page refers to $name(1), which does not exist"
	done
}

@test "installed, every command and subcommand is 'man sockctl-CMD[-SUB]'" {
	command -v man >/dev/null || skip "man is not installed"
	local build mandir p page
	build=$(dirname "$SOCKCTL")
	[[ -f $build/Makefile ]] || skip "no Makefile beside $SOCKCTL"
	make -s -C "$build" install-data DESTDIR="$BATS_TEST_TMPDIR/root" >/dev/null
	mandir=$(find "$BATS_TEST_TMPDIR/root" -type d -name man1 | head -1)
	[[ -n $mandir ]] || fail "make install-data installed no man1 directory"
	while read -r p; do
		page=sockctl-${p// /-}
		run env MANWIDTH=80 MANPAGER=cat man -M "${mandir%/man1}" "$page"
		assert_success
		# The page that shows must document this command line.
		[[ $output == *"sockctl $p"* ]] || fail "man $page does not document 'sockctl $p'"
	done < <(command_paths; commands)
}

@test "sockctl help CMD SUB and CMD help SUB show the subcommand's help" {
	local p c want
	while read -r p; do
		[[ $p == *" "* ]] || continue
		c=${p%% *}
		want=$("$SOCKCTL" $p --help)
		[[ $want == "usage: sockctl $p "* ]] || fail "'sockctl $p --help' is not its own help: $want"
		run "$SOCKCTL" help $p
		assert_success
		assert_output "$want"
		run "$SOCKCTL" "$c" help "${p#* }"
		assert_success
		assert_output "$want"
	done < <(command_paths)
	# The overview stays where no subcommand is named.
	run "$SOCKCTL" help http
	assert_output --partial "sockctl http [global options] get"
}

@test "every long option a --help names is one its command accepts" {
	local p o
	while read -r p; do
		for o in $(help_options $p); do
			[[ $o == --help ]] && continue
			# Options are all parsed before anything runs: the second
			# unknown option stops one that takes the first as its value.
			run timeout "$T" "$SOCKCTL" $p "$o" --no-such-option --no-such-option </dev/null
			[[ $output != *"unknown option '$o'"* ]] ||
				fail "'sockctl $p --help' names $o, which it refuses: $output"
			# 1: an option that reads its value at once (--allow-file).
			[[ $status == [12] ]] ||
				fail "'sockctl $p $o --no-such-option' exited $status: $output"
		done
	done < <(command_paths)
}
