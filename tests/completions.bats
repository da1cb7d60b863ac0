#!/usr/bin/env bats
# The completions stay in step with the command table and each command's
# long options (as its --help lists them).
load helpers

commands() {
	"$SOCKCTL" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

@test "every command is in the bash, zsh and fish completions" {
	local c d="$BATS_TEST_DIRNAME/../completions"
	for c in $(commands); do
		grep -qw -- "$c" "$d/sockctl" || fail "bash completion lacks $c"
		grep -q -- "'$c:" "$d/_sockctl" || fail "zsh completion lacks $c"
		grep -q -- "-a $c " "$d/sockctl.fish" || fail "fish completion lacks $c"
	done
}

@test "every long option of every command is in the completions" {
	local c o d="$BATS_TEST_DIRNAME/../completions"
	for c in $(commands); do
		for o in $("$SOCKCTL" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
			grep -q -- "$o" "$d/sockctl" || fail "bash completion lacks $c $o"
			grep -q -- "$o" "$d/_sockctl" || fail "zsh completion lacks $c $o"
			grep -q -- "-l ${o#--}" "$d/sockctl.fish" || fail "fish completion lacks $c $o"
		done
	done
}

@test "bash completion loads and completes command names" {
	run bash -c "source '$BATS_TEST_DIRNAME/../completions/sockctl'; COMP_WORDS=(sockctl he); COMP_CWORD=1; _sockctl; echo \${COMPREPLY[*]}"
	assert_success
	assert_output --partial help
}
