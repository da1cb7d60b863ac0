/* sockctl: option parsing before the command, the command table, help and
 * version. Each command parses its own options (which also accept the
 * global ones) and returns its exit status. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "tool/cmd.h"
#include "core/mux.h"

const struct cmd_entry cmd_table[] = {
    {"serve", cmd_serve, "listen; relay stdin/stdout or run a handler per connection"},
    {"connect", cmd_connect, "connect to HOST PORT and relay stdin/stdout"},
    {"udp-send", cmd_udp_send, "send datagrams and wait for the replies"},
    {"resolve", cmd_resolve, "names, addresses, services, protocols; system or direct DNS"},
    {"chat", cmd_chat, "multi-user line chat: chat serve (room server), chat connect (client)"},
    {"http", cmd_http, "HTTP: serve files or fixed responses; fetch URLs"},
    {"forward", cmd_forward, "listen and relay every client to a target (TCP, Unix, TLS)"},
    {"wait", cmd_wait, "wait until TCP, TLS, Unix, HTTP or UDP services are ready"},
    {NULL, NULL, NULL},
};

static const char main_help[] =
    "usage: sockctl [global options] COMMAND [options] [args]\n"
    "\n"
    "One tool for sockets from the shell: clients, quick servers and more.\n"
    "\n"
    "Global options (also accepted after COMMAND):\n"
    "  --mux=NAME      event loop backend: auto, select, poll, epoll\n"
    "                  (also $SOCKCTL_MUX; --mux=help lists what is built in)\n"
    "  -4, -6          use IPv4 or IPv6 only\n"
    "  -n, --numeric   no name lookups: numeric addresses and ports only\n"
    "  -v, --verbose   print connection details and statistics on stderr\n"
    "  -q, --quiet     print only errors on stderr\n"
    "  -h, --help      show help; `sockctl help COMMAND` for a command\n"
    "  --version       show the version and what the build has (--json: as JSON)\n"
    "\n"
    "Commands:\n";

static void list_commands(FILE *f)
{
	for (const struct cmd_entry *c = cmd_table; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nExit status: 0 success, 1 runtime or network failure, 2 usage error.\n"
		   "See sockctl(1) and sockctl-COMMAND(1).\n");
}

static const struct cmd_entry *find_cmd(const char *name)
{
	for (const struct cmd_entry *c = cmd_table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* "unknown command 'conect'; did you mean 'connect'?" */
static int unknown_cmd(const char *name)
{
	const char *names[16] = {"help", "version"};
	size_t n = 2;
	for (const struct cmd_entry *c = cmd_table; c->name && n < 16; c++)
		names[n++] = c->name;
	return usage_unknown("command", name, names, n, NULL);
}

static int run_cmd(const struct cmd_entry *c, int argc, char **argv)
{
	g_cmdname = c->name;
	/* 0, not 1: glibc then starts afresh, forgetting the stop-at-operand
	 * mode used for the global options. */
	optind = 0;
	return c->fn(argc, argv);
}

int main(int argc, char **argv)
{
	/* A peer that goes away must be an error return, not a dead process. */
	signal(SIGPIPE, SIG_IGN);
	/* A closed stdin, stdout or stderr would be taken by the next socket
	 * or pipe we open, and data meant for a terminal would go out on the
	 * network. Hold the slot with a descriptor that refuses every read
	 * and write (O_PATH: EBADF), so the error stays what it was. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int nfd = open("/dev/null", O_PATH | O_CLOEXEC);
			if (nfd >= 0 && nfd != fd) {
				dup2(nfd, fd);
				close(nfd);
			}
		}
	setvbuf(stderr, NULL, _IOLBF, 0);
	log_set_sink(tool_log_sink, NULL, LOG_LVL_ERROR);

	/* --json only says how --version prints (--json --version). */
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"json", no_argument, NULL, OPT_BASE},
	    {NULL, 0, NULL, 0},
	};
	optind = 1;
	int c;
	bool json_alone = false; /* --version exits in cmd_getopt */
	while ((c = cmd_getopt(argc, argv, "+" COMMON_SHORTOPTS, longopts)) != -1) {
		switch (c) {
		case 'h':
			fputs(main_help, stdout);
			list_commands(stdout);
			return EXIT_OK;
		case OPT_BASE:
			json_alone = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (json_alone)
		return usage_error("--json goes with --version (sockctl --version --json)");
	if (mux_check() < 0)
		return EXIT_USAGE;
	if (optind >= argc) {
		fputs(main_help, stderr);
		list_commands(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	if (strcmp(name, "help") == 0) {
		if (optind + 1 >= argc) {
			fputs(main_help, stdout);
			list_commands(stdout);
			return EXIT_OK;
		}
		const struct cmd_entry *hc = find_cmd(argv[optind + 1]);
		if (!hc)
			return unknown_cmd(argv[optind + 1]);
		/* `help http get`: the subcommand's name goes along, so that
		 * its own help is shown, not the command's overview. */
		static char help_flag[] = "--help";
		bool sub = optind + 2 < argc && argv[optind + 2][0] != '-';
		char *hargv[] = {argv[optind + 1], sub ? argv[optind + 2] : help_flag, help_flag,
				 NULL};
		return run_cmd(hc, sub ? 3 : 2, hargv);
	}
	if (strcmp(name, "version") == 0) {
		if (optind + 1 < argc &&
		    (optind + 2 < argc || strcmp(argv[optind + 1], "--json") != 0))
			return usage_error("version takes no operand and no option but --json");
		return version_print(optind + 1 < argc);
	}
	const struct cmd_entry *cmd = find_cmd(name);
	if (!cmd)
		return unknown_cmd(name);
	/* Global options may also come after the command name: each command
	 * parses them again and calls cmd_loop(), which checks --mux. */
	return run_cmd(cmd, argc - optind, argv + optind);
}
