/* TCP byte totals: the FIN corrections, and the kernel's counters on a
 * real loopback connection. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "unit_net.h"
#include "net/tcp_totals.h"

static void adj(int state, uint64_t acked, uint64_t outq, uint64_t rcvd, uint64_t ws, uint64_t wr,
		const char *what)
{
	uint64_t s, r;
	tcp_totals_adjust(state, acked, outq, rcvd, &s, &r);
	ok(s == ws && r == wr, "%s: %llu/%llu", what, (unsigned long long)s, (unsigned long long)r);
}

int main(void)
{
	adj(1, 100, 20, 50, 120, 50, "established: acked + queued, received");
	adj(8, 100, 0, 51, 100, 50, "close-wait: the peer's FIN is not data");
	adj(4, 100, 1, 50, 100, 50, "fin-wait-1: our FIN still queued");
	adj(5, 101, 0, 50, 100, 50, "fin-wait-2: our FIN acknowledged");
	adj(9, 101, 0, 51, 100, 50, "last-ack: both FINs");
	adj(7, 0, 0, 0, 0, 0, "closed with nothing: no underflow");

	struct sockaddr_in a;
	int l = loopback_listener(&a, 1);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ok(connect(c, (struct sockaddr *)&a, sizeof a) == 0, "connected");
	int s = accept(l, NULL, NULL);
	char buf[3000];
	memset(buf, 'x', sizeof buf);
	ok(write(s, buf, 1000) == 1000 && write(c, buf, 3000) == 3000, "wrote both ways");
	size_t got = 0;
	ssize_t n;
	while (got < 1000 && (n = read(c, buf, sizeof buf)) > 0)
		got += (size_t)n;
	shutdown(c, SHUT_WR);
	got = 0;
	while ((n = read(s, buf, sizeof buf)) > 0)
		got += (size_t)n;
	ok(got == 3000, "server read all and the FIN");
	uint64_t sent, received;
	ok(tcp_totals(s, &sent, &received) == 0 && sent == 1000 && received == 3000,
	   "counted by the kernel: sent %llu, received %llu", (unsigned long long)sent,
	   (unsigned long long)received);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(tcp_totals(sv[0], &sent, &received) < 0, "not TCP: an error");
	close(s);
	close(c);
	close(l);
	tap_done();
}
