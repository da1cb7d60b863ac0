/* sockctl http: dispatches `http get` and `http serve`. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const char http_help[] = "usage: sockctl http get [options] URL...\n"
				"       sockctl http serve [options] [ADDRESS] [PORT]\n"
				"\n"
				"  get     fetch URLs (see 'sockctl http get --help')\n"
				"  serve   serve files or a fixed response\n";

int cmd_http(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("which one: 'http get' or 'http serve'?");
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		fputs(http_help, stdout);
		fputs("\n", stdout);
		char *hargv[] = {(char *)"get", (char *)"--help", NULL};
		g_cmdname = "http get";
		return cmd_http_get(2, hargv);
	}
	if (strcmp(sub, "get") == 0) {
		g_cmdname = "http get";
		return cmd_http_get(argc - 1, argv + 1);
	}
	if (strcmp(sub, "serve") == 0) {
		errmsg("http serve: not built in this branch");
		return EXIT_FAIL;
	}
	return usage_error("unknown http command '%s' (want get or serve)", sub);
}
