/* sockctl http: dispatches `http serve` and `http get`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const char help[] = "usage: sockctl http serve [options] [[ADDRESS] PORT]\n"
			   "       sockctl http get [options] URL...\n"
			   "\n"
			   "  serve   serve a directory, or fixed responses, over HTTP/1.1\n"
			   "  get     fetch URLs (a scriptable client)\n"
			   "\n"
			   "See 'sockctl http serve --help' and 'sockctl http get --help'.\n";

int cmd_http(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("needs a subcommand: serve or get");
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0)
		return print_help(help);
	if (strcmp(sub, "serve") == 0) {
		g_cmdname = "http serve";
		optind = 1;
		return cmd_http_serve(argc - 1, argv + 1);
	}
	if (strcmp(sub, "get") == 0) {
		g_cmdname = "http get";
		optind = 1;
		return cmd_http_get(argc - 1, argv + 1);
	}
	return usage_error("unknown subcommand '%s' (serve or get)", sub);
}
