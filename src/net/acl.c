#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/acl.h"

void acl_init(struct acl *a)
{
	memset(a, 0, sizeof *a);
}

void acl_free(struct acl *a)
{
	free(a->allow);
	free(a->deny);
	acl_init(a);
}

bool acl_empty(const struct acl *a)
{
	return a->nallow == 0 && a->ndeny == 0;
}

int acl_parse_rule(const char *s, struct acl_rule *r, char *err, size_t errlen)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof tmp) {
		snprintf(err, errlen, "'%.60s' is not an address or CIDR block", s);
		return -1;
	}
	memcpy(tmp, s, n + 1);
	char *slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	memset(r, 0, sizeof *r);
	if (inet_pton(AF_INET, tmp, r->addr) == 1) {
		r->family = AF_INET;
		r->prefix = 32;
	} else if (inet_pton(AF_INET6, tmp, r->addr) == 1) {
		r->family = AF_INET6;
		r->prefix = 128;
	} else {
		snprintf(err, errlen, "'%.60s' is not an address or CIDR block", s);
		return -1;
	}
	if (slash) {
		const char *b = slash + 1;
		int max = r->prefix, v = 0;
		size_t k = 0;
		for (; b[k]; k++) {
			if (b[k] < '0' || b[k] > '9' || k >= 3)
				break;
			v = v * 10 + (b[k] - '0');
		}
		if (k == 0 || b[k] || v > max) {
			snprintf(err, errlen, "bad prefix length in '%.60s' (0-%d)", s, max);
			return -1;
		}
		r->prefix = v;
	}
	/* Peers in IPv4-mapped form are matched as IPv4, so rules must be too. */
	if (r->family == AF_INET6 && r->prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)r->addr)) {
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->family = AF_INET;
		r->prefix -= 96;
	}
	/* Clear host bits, so 10.1.2.3/8 means 10.0.0.0/8. */
	for (int bit = r->prefix; bit < (r->family == AF_INET ? 32 : 128); bit++)
		r->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	return 0;
}

static int push(struct acl_rule **v, size_t *n, size_t *cap, const struct acl_rule *r)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct acl_rule *nv = realloc(*v, nc * sizeof *nv);
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *r;
	return 0;
}

int acl_add(struct acl *a, bool allow, const char *spec, char *err, size_t errlen)
{
	struct acl_rule r;
	if (acl_parse_rule(spec, &r, err, errlen) < 0)
		return -1;
	int rc = allow ? push(&a->allow, &a->nallow, &a->capallow, &r)
		       : push(&a->deny, &a->ndeny, &a->capdeny, &r);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	return rc;
}

int acl_add_file(struct acl *a, bool allow, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[512];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t n = strlen(line);
		if (n == sizeof line - 1 && line[n - 1] != '\n') {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		char *e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
			*--e = '\0';
		if (!*p)
			continue;
		char why[200];
		if (acl_add(a, allow, p, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}

static bool match(const struct acl_rule *r, int family, const unsigned char *addr)
{
	if (r->family != family)
		return false;
	int full = r->prefix / 8, rest = r->prefix % 8;
	if (memcmp(r->addr, addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff00u >> rest);
	return (addr[full] & mask) == r->addr[full];
}

static bool any(const struct acl_rule *v, size_t n, int family, const unsigned char *addr)
{
	for (size_t i = 0; i < n; i++)
		if (match(&v[i], family, addr))
			return true;
	return false;
}

bool acl_permits(const struct acl *a, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family;
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(addr, a6->s6_addr + 12, 4);
			family = AF_INET;
		} else {
			memcpy(addr, a6->s6_addr, 16);
			family = AF_INET6;
		}
	} else {
		return true;
	}
	if (any(a->deny, a->ndeny, family, addr))
		return false;
	return a->nallow == 0 || any(a->allow, a->nallow, family, addr);
}
