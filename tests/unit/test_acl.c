/* Access rules: parsing, CIDR matching on both families, mapped
 * addresses, precedence, and rule files with their errors. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/acl.h"
#include "tap.h"

static struct sockaddr_storage ss;

static const struct sockaddr *addr(const char *s)
{
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	return (struct sockaddr *)&ss;
}

int main(void)
{
	char err[256];
	struct acl_rule r;
	ok(acl_parse_rule("10.1.2.3/8", &r, err, sizeof err) == 0 && r.prefix == 8 &&
	       r.addr[0] == 10 && r.addr[1] == 0,
	   "host bits cleared");
	ok(acl_parse_rule("::1", &r, err, sizeof err) == 0 && r.prefix == 128, "IPv6 host");
	ok(acl_parse_rule("::ffff:10.0.0.0/104", &r, err, sizeof err) == 0 && r.family == AF_INET &&
	       r.prefix == 8,
	   "mapped rule becomes IPv4");
	ok(acl_parse_rule("10.0.0.0/33", &r, err, sizeof err) < 0 && strstr(err, "0-32"),
	   "/33 refused: %s", err);
	ok(acl_parse_rule("fe80::/129", &r, err, sizeof err) < 0, "/129 refused");
	ok(acl_parse_rule("10.0.0.0/", &r, err, sizeof err) < 0, "empty prefix refused");
	ok(acl_parse_rule("10.0.0.0/8x", &r, err, sizeof err) < 0, "junk prefix refused");
	ok(acl_parse_rule("localhost", &r, err, sizeof err) < 0 &&
	       !strcmp(err, "'localhost' is not an address or CIDR block"),
	   "names refused: %s", err);
	ok(acl_parse_rule("", &r, err, sizeof err) < 0, "empty refused");

	struct acl a;
	acl_init(&a);
	ok(acl_permits(&a, addr("192.0.2.1")), "empty list permits");
	acl_add(&a, true, "127.0.0.0/8", err, sizeof err);
	acl_add(&a, true, "2001:db8::/32", err, sizeof err);
	acl_add(&a, false, "127.0.0.2", err, sizeof err);
	ok(acl_permits(&a, addr("127.9.9.9")), "in allowed /8");
	ok(!acl_permits(&a, addr("128.0.0.1")), "outside allowed");
	ok(!acl_permits(&a, addr("127.0.0.2")), "deny wins over allow");
	ok(acl_permits(&a, addr("2001:db8:ffff::1")), "in allowed IPv6 /32");
	ok(!acl_permits(&a, addr("2001:db9::1")), "outside IPv6 /32");
	ok(acl_permits(&a, addr("::ffff:127.0.0.1")), "mapped IPv4 matches IPv4 rule");
	ok(!acl_permits(&a, addr("::ffff:127.0.0.2")), "mapped IPv4 denied");
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	ok(acl_permits(&a, (struct sockaddr *)&un), "Unix peers pass");
	acl_free(&a);

	acl_init(&a);
	acl_add(&a, false, "10.0.0.0/9", err, sizeof err);
	ok(!acl_permits(&a, addr("10.127.0.1")) && acl_permits(&a, addr("10.128.0.1")),
	   "odd prefix boundary");
	acl_add(&a, false, "0.0.0.0/0", err, sizeof err);
	ok(!acl_permits(&a, addr("8.8.8.8")) && acl_permits(&a, addr("::2")), "/0 matches all v4");
	acl_free(&a);

	char path[] = "/tmp/test_acl_XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "# trusted\n\n  192.0.2.0/24  # lab\n::1\r\n";
	ok(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1), "rule file written");
	close(fd);
	acl_init(&a);
	ok(acl_add_file(&a, true, path, err, sizeof err) == 0 && a.nallow == 2, "file: %s",
	   a.nallow == 2 ? "2 rules" : err);
	ok(acl_permits(&a, addr("192.0.2.77")) && !acl_permits(&a, addr("192.0.3.1")),
	   "file rules apply");
	acl_free(&a);
	FILE *f = fopen(path, "a");
	fputs("10.0.0.0/40\n", f);
	fclose(f);
	acl_init(&a);
	char want[300];
	snprintf(want, sizeof want, "%s:5: bad prefix length", path);
	ok(acl_add_file(&a, false, path, err, sizeof err) < 0 && strstr(err, want),
	   "bad line named: %s", err);
	acl_free(&a);
	unlink(path);
	ok(acl_add_file(&a, true, "/nonexistent/acl", err, sizeof err) < 0 &&
	       !strcmp(err, "/nonexistent/acl: No such file or directory"),
	   "missing file: %s", err);
	tap_done();
}
