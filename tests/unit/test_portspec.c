/* Port lists: numbers, ranges, names, duplicates and every kind of error. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "scan/portspec.h"
#include "tap.h"

static int parses(const char *s, struct portspec *ps)
{
	char err[128];
	return portspec_parse(s, SOCK_STREAM, ps, err, sizeof err) == 0;
}

static int refused(const char *s, const char *want)
{
	char err[128] = "";
	struct portspec ps;
	int r = portspec_parse(s, SOCK_STREAM, &ps, err, sizeof err);
	if (r == 0)
		portspec_free(&ps);
	return r < 0 && strstr(err, want) != NULL;
}

int main(void)
{
	struct portspec ps;
	ok(parses("22,80,8000-8100,https", &ps) && ps.n == 2 + 101 + 1, "mixed list: %zu ports",
	   ps.n);
	ok(ps.ports[0] == 22 && ps.ports[1] == 80 && ps.ports[2] == 8000 && ps.ports[102] == 8100 &&
	       ps.ports[103] == 443,
	   "order kept, https = 443");
	portspec_free(&ps);
	ok(parses("1-65535", &ps) && ps.n == 65535 && ps.ports[65534] == 65535, "full range");
	portspec_free(&ps);
	ok(parses("80,80,79-81", &ps) && ps.n == 3 && ps.ports[0] == 80 && ps.ports[1] == 79 &&
	       ps.ports[2] == 81,
	   "duplicates dropped");
	portspec_free(&ps);
	ok(parses("7-7", &ps) && ps.n == 1 && ps.ports[0] == 7, "one-port range");
	portspec_free(&ps);
	ok(parses("ssh-http", &ps) && ps.n == 59 && ps.ports[0] == 22, "range of names");
	portspec_free(&ps);
	ok(parses("ftp-data", &ps) && ps.n == 1 && ps.ports[0] == 20,
	   "a service name with a dash is a name");
	portspec_free(&ps);
	ok(parses("65535", &ps) && ps.n == 1, "65535");
	portspec_free(&ps);

	ok(refused("", "empty port list"), "empty list");
	ok(refused("22,", "empty item"), "trailing comma");
	ok(refused(",22", "empty item"), "leading comma");
	ok(refused("0", "out of range"), "port 0");
	ok(refused("65536", "out of range"), "65536");
	ok(refused("99999999999", "out of range"), "huge number");
	ok(refused("100-50", "reversed"), "reversed range");
	ok(refused("-5", "empty port"), "range without start");
	ok(refused("5-", "empty port"), "range without end");
	ok(refused("nosuchservice", "unknown service 'nosuchservice'"), "unknown name");
	ok(refused("80 ", "bad character"), "trailing space");
	ok(refused("8\n0", "bad character"), "control character");
	ok(refused("1-2-3", "unknown service"), "double dash");
	char longname[200];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	ok(refused(longname, "too long"), "long item");
	tap_done();
}
