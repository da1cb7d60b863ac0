/* A zone transfer (AXFR, RFC 5936) as it comes over TCP: 2-byte
 * length-prefixed messages, read in whatever pieces the socket gives,
 * checked one by one. The transfer starts with the zone's SOA and ends at
 * the next SOA of the zone. Pure: no I/O, never trusts its input. */
#ifndef SOCKCTL_DNS_XFR_H
#define SOCKCTL_DNS_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_msg.h"

enum dns_xfr_ret {
	DNS_XFR_MORE, /* every byte taken; more are needed */
	DNS_XFR_MSG,  /* a message is in: read its records with dns_xfr_next */
	DNS_XFR_FAIL, /* the transfer failed: see fail and err */
};

enum dns_xfr_fail {
	DNS_XFR_MALFORMED, /* not a transfer of the zone asked for */
	DNS_XFR_RCODE,	   /* the server answered with an error rcode */
	DNS_XFR_NOTZONE,   /* NOERROR but no records: the name is not a zone */
};

struct dns_xfr {
	uint16_t id;		    /* of the query */
	char zone[DNS_PRES_MAX];    /* presentation format, final dot */
	struct dns_msg msg;	    /* the current message, over frame */
	size_t have, need;	    /* bytes of the current frame, and its length */
	uint8_t lenbuf[2];	    /* the frame's length prefix */
	unsigned lenhave;	    /* bytes of it read */
	unsigned messages, records; /* so far, the closing SOA included */
	uint64_t bytes;		    /* stream bytes taken */
	bool done;		    /* the closing SOA was seen */
	bool failed;
	enum dns_xfr_fail fail;
	int rcode;     /* DNS_XFR_RCODE */
	char err[160]; /* DNS_XFR_FAIL: why, one line */
	uint8_t frame[65535];
};

/* Starts a transfer of zone (presentation format) asked with id. Returns
 * -1 if zone is not a name. */
int dns_xfr_init(struct dns_xfr *x, uint16_t id, const char *zone);
/* Takes stream bytes. *used says how many were taken (all of them for
 * DNS_XFR_MORE; after DNS_XFR_MSG, feed the rest once the message is
 * read). Messages that are not responses (QR clear) are skipped. */
enum dns_xfr_ret dns_xfr_feed(struct dns_xfr *x, const uint8_t *p, size_t n, size_t *used);
/* The next record of the current message: 1 with rr (its data is read
 * from x->msg), 0 at the end of the message (x->done once the closing SOA
 * was seen), -1 if the transfer failed (x->fail, x->err). */
int dns_xfr_next(struct dns_xfr *x, struct dns_rr *rr);

#endif
