/* Byte totals of a TCP connection as the kernel counts them (TCP_INFO),
 * for connections whose data never passes through sockctl: serve --exec
 * hands the socket to a program, and the server keeps a copy to read
 * these from when the program ends. */
#ifndef SOCKCTL_TCP_TOTALS_H
#define SOCKCTL_TCP_TOTALS_H

#include <stdint.h>

/* The bytes the local side wrote (acknowledged by the peer or still
 * queued) and the bytes that arrived from the peer (read or not), without
 * the sequence numbers the FINs take. Returns 0, or -1 with errno (not a
 * TCP socket, or a kernel without these counters). */
int tcp_totals(int fd, uint64_t *sent, uint64_t *received);

/* The pure part: from the TCP state (tcpi_state) and the
 * counters, with the FIN corrections. */
void tcp_totals_adjust(int state, uint64_t acked, uint64_t outq, uint64_t rcvd, uint64_t *sent,
		       uint64_t *received);

#endif
