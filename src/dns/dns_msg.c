#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns_msg.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int dns_read_name(const uint8_t *p, size_t len, size_t *off, char *out, size_t outlen)
{
	struct sbuf b;
	sb_init(&b);
	size_t at = *off, end = 0, wire = 0;
	bool jumped = false;
	/* Every pointer must go strictly backwards, so the walk ends. */
	size_t limit = at;
	for (;;) {
		if (at >= len)
			goto bad;
		uint8_t c = p[at];
		if (c == 0) {
			if (!jumped)
				end = at + 1;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			if (at + 1 >= len)
				goto bad;
			size_t to = (size_t)(c & 0x3f) << 8 | p[at + 1];
			if (!jumped)
				end = at + 2;
			if (to >= limit)
				goto bad;
			jumped = true;
			limit = to;
			at = to;
			continue;
		}
		if (c & 0xc0)
			goto bad; /* the reserved label types */
		if (at + 1 + c > len)
			goto bad;
		wire += 1u + c;
		if (wire > 254)
			goto bad;
		dns_escape_label(&b, p + at + 1, c);
		sb_putc(&b, '.');
		at += 1u + c;
	}
	if (b.len == 0)
		sb_putc(&b, '.');
	if (b.oom || b.len >= outlen)
		goto bad;
	memcpy(out, b.p, b.len + 1);
	sb_free(&b);
	*off = end;
	return 0;
bad:
	sb_free(&b);
	return -1;
}

int dns_msg_init(struct dns_msg *m, const uint8_t *p, size_t len)
{
	memset(m, 0, sizeof *m);
	m->p = p;
	m->len = len;
	if (len < 12)
		return -1;
	m->id = get16(p);
	m->flags = get16(p + 2);
	for (int i = 0; i < 4; i++)
		m->count[i] = get16(p + 4 + 2 * i);
	m->rcode = m->flags & 0xf;
	m->off = 12;
	for (unsigned q = 0; q < m->count[0]; q++) {
		char name[DNS_PRES_MAX];
		if (dns_read_name(p, len, &m->off, name, sizeof name) < 0 || m->off + 4 > len)
			return -1;
		if (q == 0) {
			memcpy(m->qname, name, sizeof name);
			m->qtype = get16(p + m->off);
			m->qclass = get16(p + m->off + 2);
		}
		m->off += 4;
	}
	m->section = DNS_SEC_ANSWER;
	m->left = m->count[1];
	return 0;
}

int dns_msg_next(struct dns_msg *m, struct dns_rr *rr)
{
	while (m->left == 0) {
		if (m->section == DNS_SEC_ADDITIONAL)
			return 0;
		m->section++;
		m->left = m->count[m->section + 1];
	}
	rr->section = m->section;
	if (dns_read_name(m->p, m->len, &m->off, rr->name, sizeof rr->name) < 0)
		return -1;
	if (m->off + 10 > m->len)
		return -1;
	const uint8_t *h = m->p + m->off;
	rr->type = get16(h);
	rr->rclass = get16(h + 2);
	rr->ttl = get32(h + 4);
	rr->rdlen = get16(h + 8);
	rr->rdoff = m->off + 10;
	if (rr->rdoff + rr->rdlen > m->len)
		return -1;
	m->off = rr->rdoff + rr->rdlen;
	m->left--;
	if (rr->type == DNS_T_OPT)
		m->rcode = (int)((rr->ttl >> 24) << 4) | (m->flags & 0xf);
	return 1;
}

/* A name inside record data; must end within the data. */
static int rd_name(const struct dns_msg *m, size_t *at, size_t end, struct sbuf *out)
{
	char name[DNS_PRES_MAX];
	if (dns_read_name(m->p, end, at, name, sizeof name) < 0) {
		/* Compression pointers may point before the data, which the
		 * shortened length still covers; a name running past the data
		 * is malformed. */
		return -1;
	}
	sb_puts(out, name);
	return 0;
}

static int rd_string(const uint8_t *p, size_t *at, size_t end, struct sbuf *out)
{
	if (*at >= end || *at + 1 + p[*at] > end)
		return -1;
	sb_putc(out, '"');
	dns_escape_text(out, p + *at + 1, p[*at]);
	sb_putc(out, '"');
	*at += 1u + p[*at];
	return 0;
}

int dns_rdata_format(const struct dns_msg *m, const struct dns_rr *rr, struct sbuf *out)
{
	const uint8_t *p = m->p;
	size_t at = rr->rdoff, end = rr->rdoff + rr->rdlen;
	size_t start_len = out->len;
	char a[INET6_ADDRSTRLEN];
	if (rr->rclass != 1 && rr->type != DNS_T_OPT)
		goto generic;
	switch (rr->type) {
	case DNS_T_A:
		if (rr->rdlen != 4)
			goto bad;
		inet_ntop(AF_INET, p + at, a, sizeof a);
		sb_puts(out, a);
		return 0;
	case DNS_T_AAAA:
		if (rr->rdlen != 16)
			goto bad;
		inet_ntop(AF_INET6, p + at, a, sizeof a);
		sb_puts(out, a);
		return 0;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (rd_name(m, &at, end, out) < 0 || at != end)
			goto bad;
		return 0;
	case DNS_T_MX:
		if (rr->rdlen < 3)
			goto bad;
		sb_printf(out, "%u ", get16(p + at));
		at += 2;
		if (rd_name(m, &at, end, out) < 0 || at != end)
			goto bad;
		return 0;
	case DNS_T_SRV:
		if (rr->rdlen < 7)
			goto bad;
		sb_printf(out, "%u %u %u ", get16(p + at), get16(p + at + 2), get16(p + at + 4));
		at += 6;
		if (rd_name(m, &at, end, out) < 0 || at != end)
			goto bad;
		return 0;
	case DNS_T_SOA:
		if (rd_name(m, &at, end, out) < 0)
			goto bad;
		sb_putc(out, ' ');
		if (rd_name(m, &at, end, out) < 0 || at + 20 != end)
			goto bad;
		for (int i = 0; i < 5; i++)
			sb_printf(out, " %u", get32(p + at + 4 * i));
		return 0;
	case DNS_T_TXT:
	case DNS_T_HINFO:
		if (at == end)
			goto bad;
		for (int n = 0; at < end; n++) {
			if (n)
				sb_putc(out, ' ');
			if (rd_string(p, &at, end, out) < 0)
				goto bad;
		}
		if (rr->type == DNS_T_HINFO && out->len == start_len)
			goto bad;
		return 0;
	case DNS_T_CAA: {
		if (rr->rdlen < 2)
			goto bad;
		uint8_t flags = p[at], tlen = p[at + 1];
		at += 2;
		if (tlen == 0 || at + tlen > end)
			goto bad;
		sb_printf(out, "%u ", flags);
		/* The tag is letters and digits by the RFC; escape anyway. */
		dns_escape_label(out, p + at, tlen);
		at += tlen;
		sb_puts(out, " \"");
		dns_escape_text(out, p + at, end - at);
		sb_putc(out, '"');
		return 0;
	}
	}
generic:
	sb_printf(out, "\\# %u", rr->rdlen);
	if (rr->rdlen)
		sb_putc(out, ' ');
	for (size_t i = at; i < end; i++)
		sb_printf(out, "%02x", p[i]);
	return 0;
bad:
	out->len = start_len;
	if (out->p)
		out->p[start_len] = '\0';
	return -1;
}

int dns_name_to_wire(const char *name, uint8_t *out, size_t outlen)
{
	size_t at = 0, label = 0; /* where the current label's length byte goes */
	const char *s = name;
	if (strcmp(s, ".") == 0)
		s++;
	else if (!*s)
		return -1;
	if (outlen < 1)
		return -1;
	out[0] = 0;
	at = 1;
	while (*s) {
		int c = (unsigned char)*s++;
		if (c == '.') {
			if (out[label] == 0)
				return -1; /* an empty label: "a..b", ".a" */
			label = at++;
			if (at > outlen)
				return -1;
			out[label] = 0;
			continue;
		}
		if (c == '\\') {
			if (s[0] >= '0' && s[0] <= '9') {
				if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
					return -1;
				c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
				if (c > 255)
					return -1;
				s += 3;
			} else if (*s)
				c = (unsigned char)*s++;
			else
				return -1;
		}
		if (out[label] == 63 || at >= outlen)
			return -1;
		out[at++] = (uint8_t)c;
		out[label]++;
	}
	/* The root label; a name that ended in a dot has it already open. */
	if (out[label] != 0) {
		if (at >= outlen)
			return -1;
		out[at++] = 0;
	}
	return at > 255 ? -1 : (int)at;
}

int dns_query_build(uint8_t *out, size_t outlen, uint16_t id, const char *name, uint16_t type,
		    bool rd)
{
	if (outlen < 12 + 4)
		return -1;
	int n = dns_name_to_wire(name, out + 12, outlen - 12 - 4);
	if (n < 0)
		return -1;
	const uint8_t head[12] = {
	    (uint8_t)(id >> 8), (uint8_t)id, rd ? 0x01 : 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(out, head, sizeof head);
	uint8_t *q = out + 12 + n;
	q[0] = (uint8_t)(type >> 8), q[1] = (uint8_t)type, q[2] = 0, q[3] = 1;
	return 12 + n + 4;
}

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", DNS_T_A},	{"AAAA", DNS_T_AAAA}, {"CNAME", DNS_T_CNAME}, {"MX", DNS_T_MX},
    {"NS", DNS_T_NS},	{"TXT", DNS_T_TXT},   {"SRV", DNS_T_SRV},     {"PTR", DNS_T_PTR},
    {"SOA", DNS_T_SOA}, {"CAA", DNS_T_CAA},   {"HINFO", DNS_T_HINFO}, {"OPT", DNS_T_OPT},
    {"ANY", DNS_T_ANY}, {"AXFR", DNS_T_AXFR},
};
const char dns_type_list[] = "A,AAAA,CNAME,MX,NS,TXT,SRV,PTR,SOA,CAA,HINFO,ANY,AXFR,TYPEnnn";

const char *dns_type_name(uint16_t type, char *buf)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == type)
			return types[i].name;
	snprintf(buf, 16, "TYPE%u", type);
	return buf;
}

int dns_type_parse(const char *s)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(types[i].name, s) == 0)
			return types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0)
		s += 4;
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > 65535 || end - s > 5)
		return -1;
	return (int)v;
}

const char *dns_rcode_name(int rcode, char *buf)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					    "NXRRSET", "NOTAUTH", "NOTZONE"};
	if (rcode >= 0 && (size_t)rcode < sizeof names / sizeof names[0])
		return names[rcode];
	if (rcode == 16)
		return "BADVERS";
	snprintf(buf, 16, "RCODE%d", rcode);
	return buf;
}

bool dns_reverse_name(const char *s, char *out, size_t outlen)
{
	uint8_t a[16];
	char tmp[80];
	/* Drop an IPv6 zone ("fe80::1%eth0"): it is not part of the name. */
	const char *pct = strchr(s, '%');
	if (pct && (size_t)(pct - s) < sizeof tmp) {
		memcpy(tmp, s, (size_t)(pct - s));
		tmp[pct - s] = '\0';
		s = tmp;
	}
	int n;
	if (inet_pton(AF_INET, s, a) == 1)
		n = snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	else if (inet_pton(AF_INET6, s, a) == 1) {
		static const char hex[] = "0123456789abcdef";
		char nib[65];
		for (int i = 0; i < 16; i++) {
			nib[4 * i] = hex[a[15 - i] & 15];
			nib[4 * i + 1] = '.';
			nib[4 * i + 2] = hex[a[15 - i] >> 4];
			nib[4 * i + 3] = '.';
		}
		nib[64] = '\0';
		n = snprintf(out, outlen, "%sip6.arpa", nib);
	} else
		return false;
	return n > 0 && (size_t)n < outlen;
}
