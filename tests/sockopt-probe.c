/* Test helper: reads the socket options of another process's sockets.
 * For every socket fd of PID it takes a copy with pidfd_getfd(2) and
 * prints one line of getsockopt values, so the tests check what the
 * kernel really holds rather than what sockctl says it set.
 *
 * usage: sockopt-probe PID
 * line:  local=ADDR:PORT peer=ADDR:PORT|- listen=0|1 nodelay=N sndbuf=N rcvbuf=N
 *        keepalive=N keepidle=N keepintvl=N keepcnt=N reuseport=N tos=N ttl=N
 *        linger=ON/SECS dev=NAME|- */
#include "config.h"

#include <dirent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/sock.h"

static int get(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof v;
	if (getsockopt(fd, level, name, &v, &l) < 0)
		return -1;
	return v;
}

static void probe(int fd)
{
	struct sock_addr la, pa;
	char ls[SOCK_ADDRSTRLEN], ps[SOCK_ADDRSTRLEN] = "-";
	if (sock_local_addr(fd, &la) < 0 ||
	    (la.ss.ss_family != AF_INET && la.ss.ss_family != AF_INET6))
		return;
	sock_addr_str((struct sockaddr *)&la.ss, la.len, ls, sizeof ls);
	if (sock_peer_addr(fd, &pa) == 0)
		sock_addr_str((struct sockaddr *)&pa.ss, pa.len, ps, sizeof ps);
	bool v6 = la.ss.ss_family == AF_INET6;
	struct linger lg = {0};
	socklen_t ll = sizeof lg;
	getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll);
	char dev[IF_NAMESIZE + 1] = "";
	socklen_t dl = sizeof dev - 1;
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dl) < 0 || !dev[0])
		strcpy(dev, "-");
	printf("local=%s peer=%s listen=%d nodelay=%d sndbuf=%d rcvbuf=%d keepalive=%d "
	       "keepidle=%d keepintvl=%d keepcnt=%d reuseport=%d tos=%d ttl=%d linger=%d/%d "
	       "dev=%s\n",
	       ls, ps, get(fd, SOL_SOCKET, SO_ACCEPTCONN), get(fd, IPPROTO_TCP, TCP_NODELAY),
	       get(fd, SOL_SOCKET, SO_SNDBUF), get(fd, SOL_SOCKET, SO_RCVBUF),
	       get(fd, SOL_SOCKET, SO_KEEPALIVE), get(fd, IPPROTO_TCP, TCP_KEEPIDLE),
	       get(fd, IPPROTO_TCP, TCP_KEEPINTVL), get(fd, IPPROTO_TCP, TCP_KEEPCNT),
	       get(fd, SOL_SOCKET, SO_REUSEPORT),
	       v6 ? get(fd, IPPROTO_IPV6, IPV6_TCLASS) : get(fd, IPPROTO_IP, IP_TOS),
	       v6 ? get(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS) : get(fd, IPPROTO_IP, IP_TTL),
	       lg.l_onoff, lg.l_linger, dev);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sockopt-probe PID\n");
		return 2;
	}
	int pid = atoi(argv[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		perror("pidfd_open");
		return 1;
	}
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return 1;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int target = atoi(de->d_name);
		int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
			probe(fd);
		close(fd);
	}
	closedir(d);
	return 0;
}
