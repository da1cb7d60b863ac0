/* DNS messages: reading a response (header, question, records with name
 * decompression) and writing record data in presentation format; writing a
 * query; type and rcode names; reverse-lookup names. Pure: no I/O, never
 * trusts its input. */
#ifndef SOCKCTL_DNS_MSG_H
#define SOCKCTL_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_fmt.h"

/* Longest name in presentation format: 255 wire bytes, each up to 4. */
#define DNS_PRES_MAX 1024

enum { DNS_SEC_ANSWER = 0, DNS_SEC_AUTHORITY = 1, DNS_SEC_ADDITIONAL = 2 };
enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_NOTAUTH = 9,
};
enum {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_HINFO = 13,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_OPT = 41,
	DNS_T_AXFR = 252,
	DNS_T_ANY = 255,
	DNS_T_CAA = 257,
};
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080

struct dns_msg {
	const uint8_t *p; /* not owned */
	size_t len, off;
	uint16_t id, flags, count[4]; /* question, answer, authority, additional */
	int rcode;		      /* with the extended bits from OPT when present */
	char qname[DNS_PRES_MAX];     /* "" when there is no question */
	uint16_t qtype, qclass;
	int section;   /* of the next record */
	unsigned left; /* records left in that section */
};

struct dns_rr {
	int section;
	char name[DNS_PRES_MAX];
	uint16_t type, rclass;
	uint32_t ttl;
	size_t rdoff; /* into the message */
	uint16_t rdlen;
};

/* Reads the header and the first question. Returns 0, or -1 if the message
 * is malformed. The extended rcode is filled in by dns_msg_next when it
 * meets the OPT record. */
int dns_msg_init(struct dns_msg *m, const uint8_t *p, size_t len);
/* The next record (answer, authority, then additional). Returns 1 with rr
 * filled, 0 at the end, -1 if malformed. */
int dns_msg_next(struct dns_msg *m, struct dns_rr *rr);
/* Appends rr's data in presentation format ("10 mail.example.", "\"txt\"",
 * RFC 3597 "\# 3 abcdef" for types we do not know). Returns 0, or -1 if
 * the data is malformed (then nothing useful was appended). */
int dns_rdata_format(const struct dns_msg *m, const struct dns_rr *rr, struct sbuf *out);
/* Reads a possibly compressed name at *off into presentation format (with
 * the final dot). Returns 0 and advances *off past it, or -1. */
int dns_read_name(const uint8_t *p, size_t len, size_t *off, char *out, size_t outlen);

/* Writes a name in presentation format ("www.example", final dot
 * optional, \. and \DDD escapes) in wire format. Returns its length, or -1
 * if it is not a name (an empty label, a label over 63 bytes, over 255 in
 * all, a bad escape) or does not fit. */
int dns_name_to_wire(const char *name, uint8_t *out, size_t outlen);
/* Writes a query: the header (id; RD if rd), one question (name, type,
 * class IN), no records. Returns its length, or -1 as dns_name_to_wire. */
int dns_query_build(uint8_t *out, size_t outlen, uint16_t id, const char *name, uint16_t type,
		    bool rd);

/* "A", "MX", "TYPE65280". buf needs 16 bytes. */
const char *dns_type_name(uint16_t type, char *buf);
/* "A", "mx", "TYPE99" or "99" -> number; -1 if unknown. */
int dns_type_parse(const char *s);
/* The comma-separated list of the types we know by name, for help texts. */
extern const char dns_type_list[];
/* "NOERROR", "NXDOMAIN", "RCODE23". buf needs 16 bytes. */
const char *dns_rcode_name(int rcode, char *buf);

/* "192.0.2.1" -> "1.2.0.192.in-addr.arpa", an IPv6 address -> its nibble
 * name under ip6.arpa. Returns false if s is not a numeric address. */
bool dns_reverse_name(const char *s, char *out, size_t outlen);

#endif
