#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "net/tcp_totals.h"

/* The kernel's TCP states (tcpi_state), a stable ABI that the uapi
 * headers do not name. */
enum {
	ST_FIN_WAIT1 = 4,
	ST_FIN_WAIT2 = 5,
	ST_CLOSE = 7,
	ST_CLOSE_WAIT = 8,
	ST_LAST_ACK = 9,
	ST_CLOSING = 11,
};

void tcp_totals_adjust(int state, uint64_t acked, uint64_t outq, uint64_t rcvd, uint64_t *sent,
		       uint64_t *received)
{
	/* A FIN takes one sequence number: the kernel counts it in
	 * bytes_acked (or the queue, until acknowledged) once sent, and in
	 * bytes_received once it arrived. The state says which FINs have
	 * passed; a closed socket is taken as closed in order (both). */
	bool fin_out = state == ST_FIN_WAIT1 || state == ST_FIN_WAIT2 || state == ST_CLOSING ||
		       state == ST_LAST_ACK || state == ST_CLOSE;
	bool fin_in = state == ST_CLOSE_WAIT || state == ST_CLOSING || state == ST_LAST_ACK ||
		      state == ST_CLOSE;
	uint64_t s = acked + outq, r = rcvd;
	if (fin_out && s)
		s--;
	if (fin_in && r)
		r--;
	*sent = s;
	*received = r;
}

int tcp_totals(int fd, uint64_t *sent, uint64_t *received)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	if (len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received) {
		errno = ENOPROTOOPT;
		return -1;
	}
	int outq = 0;
	if (ioctl(fd, SIOCOUTQ, &outq) < 0 || outq < 0)
		outq = 0;
	tcp_totals_adjust(ti.tcpi_state, ti.tcpi_bytes_acked, (uint64_t)outq,
			  ti.tcpi_bytes_received, sent, received);
	return 0;
}
