/* Socket options: every value form and every bad value, then applied to
 * real sockets and read back with getsockopt. */
#include "config.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sockopt.h"
#include "tap.h"

static char err[256];

static int get(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof v;
	getsockopt(fd, level, name, &v, &l);
	return v;
}

static int bad(const char *name, const char *val)
{
	struct sockopts o = {0};
	return sockopt_parse(&o, name, val, err, sizeof err) == -1 && strstr(err, name);
}

int main(void)
{
	int n;
	ok(sockopt_parse_size("64K", &n) && n == 65536, "64K");
	ok(sockopt_parse_size("1m", &n) && n == 1048576, "1m");
	ok(sockopt_parse_size("4096", &n) && n == 4096, "plain bytes");
	ok(!sockopt_parse_size("0", &n) && !sockopt_parse_size("K", &n) &&
	       !sockopt_parse_size("1T", &n) && !sockopt_parse_size("2G", &n) &&
	       !sockopt_parse_size("-1", &n) && !sockopt_parse_size("", &n),
	   "bad sizes refused");

	struct sockopts o = {0};
	ok(sockopt_parse(&o, "keepalive", "60,10,5", err, sizeof err) == 0 && o.ka_idle == 60 &&
	       o.ka_intvl == 10 && o.ka_cnt == 5,
	   "keepalive 60,10,5");
	o = (struct sockopts){0};
	ok(sockopt_parse(&o, "keepalive", ",,3", err, sizeof err) == 0 && o.ka_idle == 0 &&
	       o.ka_cnt == 3,
	   "keepalive count only");
	ok(sockopt_parse(&o, "keepalive", NULL, err, sizeof err) == 0 &&
	       (o.set & SOCKOPT_KEEPALIVE),
	   "keepalive without value");
	ok(sockopt_parse(&o, "tos", "lowdelay", err, sizeof err) == 0 && o.tos == 0x10, "tos name");
	ok(sockopt_parse(&o, "tos", "0xb8", err, sizeof err) == 0 && o.tos == 0xb8, "tos hex");
	ok(sockopt_parse(&o, "tos", "cs3", err, sizeof err) == 0 && o.tos == 96, "tos cs3");
	ok(sockopt_parse(&o, "bogus", "1", err, sizeof err) == 1, "unknown name = 1");
	ok(bad("keepalive", "0") && bad("keepalive", "1,2,3,4") && bad("keepalive", "x") &&
	       bad("keepalive", "1,2,200"),
	   "bad keepalive: %s", err);
	ok(bad("keepalive", ",,") && bad("keepalive", "") && bad("keepalive", ","),
	   "keepalive with no number at all: %s", err);
	ok(bad("sndbuf", "") && bad("sndbuf", "K") && bad("sndbuf", "1KK") && bad("sndbuf", "-1") &&
	       bad("sndbuf", "1.5M") && bad("sndbuf", "99999999999") && bad("sndbuf", "2G"),
	   "bad sndbuf: empty, junk, negative, overflow: %s", err);
	ok(bad("tos", "") && bad("tos", "0x-1") && bad("tos", "0x1g") && bad("tos", "-1") &&
	       bad("tos", "1 "),
	   "bad tos: empty, trailing junk, negative: %s", err);
	ok(bad("tos", "256") && bad("tos", "0x100") && bad("tos", "0x") && bad("tos", "cs8") &&
	       bad("tos", "fast"),
	   "bad tos: %s", err);
	ok(bad("ttl", "0") && bad("ttl", "256") && bad("ttl", ""), "bad ttl: %s", err);
	ok(bad("linger", "-1") && bad("linger", "1.5") && bad("linger", "65536"), "bad linger: %s",
	   err);
	ok(bad("bind-dev", "") && bad("bind-dev", "averyveryverylongname") &&
	       bad("bind-dev", "a/b"),
	   "bad bind-dev: %s", err);
	ok(bad("sndbuf", "lots") && bad("rcvbuf", "0"), "bad buffer: %s", err);

	o = (struct sockopts){0};
	const char *all[][2] = {{"nodelay", NULL},	 {"sndbuf", "256K"},  {"rcvbuf", "128K"},
				{"keepalive", "30,7,4"}, {"reuseport", NULL}, {"tos", "0x28"},
				{"ttl", "17"},		 {"linger", "3"},     {"bind-dev", "lo"}};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sockopt_parse(&o, all[i][0], all[i][1], err, sizeof err);
	err[0] = '\0';
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ok(sockopt_apply_early(&o, fd, err, sizeof err) == 0, "early options: %s", err);
	ok(get(fd, SOL_SOCKET, SO_REUSEPORT) == 1, "SO_REUSEPORT");
	char dev[IF_NAMESIZE] = "";
	socklen_t dl = sizeof dev;
	getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dl);
	ok(strcmp(dev, "lo") == 0, "SO_BINDTODEVICE lo");
	ok(sockopt_apply(&o, fd, err, sizeof err) == 0, "connected options: %s", err);
	ok(get(fd, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY");
	ok(get(fd, SOL_SOCKET, SO_SNDBUF) == 2 * 256 * 1024, "SO_SNDBUF doubled by the kernel");
	ok(get(fd, SOL_SOCKET, SO_RCVBUF) == 2 * 128 * 1024, "SO_RCVBUF");
	ok(get(fd, SOL_SOCKET, SO_KEEPALIVE) == 1 && get(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 30 &&
	       get(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 7 && get(fd, IPPROTO_TCP, TCP_KEEPCNT) == 4,
	   "keepalive with its parameters");
	ok(get(fd, IPPROTO_IP, IP_TOS) == 0x28, "IP_TOS");
	ok(get(fd, IPPROTO_IP, IP_TTL) == 17, "IP_TTL");
	struct linger lg;
	socklen_t ll = sizeof lg;
	getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll);
	ok(lg.l_onoff == 1 && lg.l_linger == 3, "SO_LINGER");
	close(fd);

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd >= 0) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6,
					 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		bind(fd, (struct sockaddr *)&a, sizeof a);
		ok(sockopt_apply(&o, fd, err, sizeof err) == 0 &&
		       get(fd, IPPROTO_IPV6, IPV6_TCLASS) == 0x28 &&
		       get(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 17,
		   "IPv6 forms of tos and ttl: %s", err);
		close(fd);
	} else {
		ok(1, "# SKIP no IPv6");
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ok(sockopt_apply(&o, fd, err, sizeof err) < 0 && strstr(err, "TCP sockets only"),
	   "nodelay on UDP: %s", err);
	close(fd);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct sockopts t = {0};
	sockopt_parse(&t, "ttl", "5", err, sizeof err);
	ok(sockopt_apply(&t, sv[0], err, sizeof err) < 0 && strstr(err, "IP sockets only"),
	   "ttl on Unix: %s", err);
	close(sv[0]);
	close(sv[1]);
	struct sockopts d = {0};
	sockopt_parse(&d, "bind-dev", "nosuchdev0", err, sizeof err);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ok(sockopt_apply_early(&d, fd, err, sizeof err) < 0 &&
	       strstr(err, "--bind-dev: No such device (nosuchdev0)"),
	   "missing device: %s", err);
	close(fd);
	tap_done();
}
