# What the help says there is: commands, subcommands, options. Shared by
# the tests that hold the manual and the completions to it. Load with
# `load help_lib` after `load helpers`.

# commands: the command names `sockctl --help` lists.
commands() {
	"$SOCKCTL" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

# subcommands CMD: the subcommands its overview's usage lines name
# ("usage: sockctl http [global options] serve ..."), none for a plain one.
subcommands() {
	"$SOCKCTL" help "$1" | sed -n "s/^\(usage:\)\{0,1\} *sockctl $1 \[global options\] \([a-z][a-z-]*\) .*/\2/p"
}

# command_paths: every command line a user can ask help for: "serve",
# "chat serve", "chat connect", ...
command_paths() {
	local c s subs
	for c in $(commands); do
		subs=$(subcommands "$c")
		if [[ -z $subs ]]; then
			echo "$c"
		else
			for s in $subs; do echo "$c $s"; done
		fi
	done
}

# help_options PATH...: the long options `sockctl PATH --help` names, one
# a line, sorted.
help_options() {
	"$SOCKCTL" "$@" --help | grep -oE -- '--[a-z][a-z0-9-]+(\.[0-9]+)?' | sort -u
}

# global_options: the long options `sockctl --help` lists as global.
global_options() {
	"$SOCKCTL" --help | sed -n '/^Global options/,/^$/p' | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u
}
