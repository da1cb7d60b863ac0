/* --allow/--deny: address and CIDR rules, IPv4 and IPv6, from the command
 * line or files. Pure: no printing, no name lookups. */
#ifndef SOCKCTL_ACL_H
#define SOCKCTL_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct acl_rule {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix; /* bits */
};

struct acl {
	struct acl_rule *allow, *deny; /* owned */
	size_t nallow, ndeny, capallow, capdeny;
};

void acl_init(struct acl *a);
void acl_free(struct acl *a);
/* Parses "ADDR" or "ADDR/BITS" (IPv4 or IPv6). Returns 0 or -1 with err. */
int acl_parse_rule(const char *s, struct acl_rule *r, char *err, size_t errlen);
int acl_add(struct acl *a, bool allow, const char *spec, char *err, size_t errlen);
/* One rule per line; blank lines and '#' comments ignored; an error names
 * FILE:LINE. */
int acl_add_file(struct acl *a, bool allow, const char *path, char *err, size_t errlen);
/* Deny rules win; with any allow rule, only matching addresses pass.
 * IPv4-mapped IPv6 addresses match IPv4 rules. Non-IP peers (Unix) pass. */
bool acl_permits(const struct acl *a, const struct sockaddr *sa);
bool acl_empty(const struct acl *a);

#endif
