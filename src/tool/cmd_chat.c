/* `sockctl chat`: dispatches `chat serve` and `chat connect`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tool/cmd_chat.h"
#include "tool/cmd.h"

static const char chat_help[] =
    "usage: sockctl chat [global options] serve [options] [ADDRESS] PORT\n"
    "       sockctl chat [global options] connect [options] HOST PORT\n"
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
	static const struct subcmd subs[] = {
	    {"serve", chat_serve},
	    {"connect", chat_connect},
	    {NULL, NULL},
	};
	return cmd_subcommands(argc, argv, subs, "serve or connect", chat_help);
}
