/* sockctl http: dispatches `http serve` and `http get`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tool/cmd.h"

static const char help[] = "usage: sockctl http [global options] serve [options] [[ADDRESS] PORT]\n"
			   "       sockctl http [global options] get [options] URL...\n"
			   "\n"
			   "  serve   serve a directory, or fixed responses, over HTTP/1.1\n"
			   "  get     fetch URLs (a scriptable client)\n"
			   "\n"
			   "See 'sockctl http serve --help' and 'sockctl http get --help'.\n";

int cmd_http(int argc, char **argv)
{
	static const struct subcmd subs[] = {
	    {"serve", cmd_http_serve},
	    {"get", cmd_http_get},
	    {NULL, NULL},
	};
	return cmd_subcommands(argc, argv, subs, "serve or get", help);
}
