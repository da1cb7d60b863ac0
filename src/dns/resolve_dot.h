/* DNS over TLS: rdns_query's engine when its options carry a TLS
 * context (resolve --tls). Same results and callbacks as over UDP and
 * TCP, with transport "tls"; a handshake that fails on every try (a
 * certificate that does not verify) ends as RDNS_ERROR with its reason. */
#ifndef SOCKCTL_RESOLVE_DOT_H
#define SOCKCTL_RESOLVE_DOT_H

#include "dns/resolve_dns.h"

struct rdot_set;
/* Starts one query in *set (made by the first query: the connections
 * its queries share, and what rdot_cancel_all ends). o must outlive it
 * and be the same for every query of a set. cb runs exactly once, from
 * the loop, or before this returns for a name that cannot be asked. Returns 0, or -1 if out of
 * memory (cb not called). */
int rdot_query(struct rdot_set **set, struct loop *l, const struct rdns_opts *o, const char *name,
	       int type, rdns_cb cb, void *arg);
/* Ends every query of the set without a callback, closes its
 * connections and frees it. */
void rdot_cancel_all(struct rdot_set **set);

#endif
