/* A host's addresses as an addrinfo list for the connector, without
 * holding up the loop, so a slow name delays only what waits for it:
 * from chosen DNS servers (A and AAAA through dns/resolve_dns, c-ares on
 * the event loop), or from the system's resolver (getaddrinfo, as the
 * connector asks it, in a thread per lookup). Never prints or exits. */
#ifndef SOCKCTL_DNS_ADDR_H
#define SOCKCTL_DNS_ADDR_H

#include <stddef.h>

#include "dns/resolve_dns.h"

struct addrinfo;
struct loop;

/* res: the addresses (from servers: AAAA answers first, then A), owned by the callee
 * (free with sock_freeaddrinfo), errtext NULL. res NULL: the lookup
 * failed and errtext says why ("db.test: no such name (NXDOMAIN from
 * 127.0.0.1:53)"). */
typedef void (*dns_addr_cb)(struct addrinfo *res, const char *errtext, void *arg);

struct dns_addrs;
struct dns_addr;

/* A resolver asking o's servers, or (o NULL) the system's. NULL with
 * err when c-ares (or the pipe the threads wake the loop with) cannot
 * start. */
struct dns_addrs *dns_addrs_new(struct loop *l, const struct rdns_opts *o, char *err,
				size_t errlen);
/* Frees it and every lookup still under way (their callbacks never run). */
void dns_addrs_free(struct dns_addrs *r);
/* Looks host up for family (AF_UNSPEC: both) and gives port (a number or
 * a service name) and socktype to each address. A numeric host is not
 * asked of anyone. cb runs exactly once, from the loop; it may start and
 * cancel lookups but not free r (with servers given, it runs inside
 * c-ares's callback). NULL with err on a bad port or when out of memory
 * (cb not called). */
struct dns_addr *dns_addr_start(struct dns_addrs *r, const char *host, const char *port, int family,
				int socktype, dns_addr_cb cb, void *arg, char *err, size_t errlen);
/* A lookup whose callback has not run yet: it never will. */
void dns_addr_cancel(struct dns_addr *a);

#endif
