/* `sockctl chat`: dispatches `chat serve` and `chat connect`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "chat.h"
#include "cmd.h"

static const char chat_help[] =
    "usage: sockctl chat serve [options] [ADDRESS] PORT\n"
    "       sockctl chat connect [options] HOST PORT\n"
    "\n"
    "A multi-user line chat: `chat serve` runs the room server (nc and telnet\n"
    "can join too), `chat connect` is the terminal client. See sockctl-chat(1).\n"
    "\n"
    "chat serve options:\n"
    "  -U, --unix=PATH, -m, --max-clients=N, --max-line=BYTES, --queue=BYTES,\n"
    "  --flood=N, --show-addresses\n"
    "chat connect options:\n"
    "  -U, --unix=PATH, -N, --name=NAME, -r, --room=ROOM, --color=WHEN\n"
    "`sockctl chat serve --help` and `sockctl chat connect --help` say more.\n";

int cmd_chat(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("missing subcommand: serve or connect");
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
		return print_help(chat_help);
	if (strcmp(sub, "serve") == 0) {
		g_cmdname = "chat serve";
		return chat_serve(argc - 1, argv + 1);
	}
	if (strcmp(sub, "connect") == 0) {
		g_cmdname = "chat connect";
		return chat_connect(argc - 1, argv + 1);
	}
	return usage_error("unknown subcommand '%s' (serve or connect)", sub);
}
