/* The STARTTLS dialogues, pure (see starttls.h). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/starttls.h"

static const char *const names[] = {"smtp", "lmtp", "imap",	"pop3",
				    "ftp",  "xmpp", "postgres", "ldap"};
const char starttls_proto_list[] = "smtp, lmtp, imap, pop3, ftp, xmpp, postgres, ldap";

bool starttls_proto_parse(const char *name, enum starttls_proto *out)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(name, names[i])) {
			*out = (enum starttls_proto)i;
			return true;
		}
	return false;
}

const char *starttls_proto_name(enum starttls_proto p)
{
	return (size_t)p < sizeof names / sizeof names[0] ? names[p] : "?";
}

/* ---- the dialogue ---- */

enum { AGAIN = -1 }; /* a step used some input: try the next one */

/* PostgreSQL's SSLRequest: length 8, then the code 80877103. */
static const unsigned char pg_sslrequest[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
/* LDAP ExtendedRequest, message 1, requestName 1.3.6.1.4.1.1466.20037 (RFC 4511). */
static const char ldap_oid[] = "1.3.6.1.4.1.1466.20037";

static int fail(char *err, size_t errlen, const char *what, const char *reply, size_t n)
{
	struct sbuf b;
	sb_init(&b);
	sb_puts(&b, what);
	if (reply) {
		sb_puts(&b, ": \"");
		sb_put_visible(&b, reply, n > 200 ? 200 : n);
		sb_puts(&b, n > 200 ? "...\"" : "\"");
	}
	snprintf(err, errlen, "%s", b.oom ? what : sb_str(&b));
	sb_free(&b);
	return STARTTLS_FAIL;
}

/* XML text for XMPP's to='...' (a host name needs none, but it is the
 * user's). */
static void xml_attr(struct sbuf *out, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			sb_puts(out, "&amp;");
			break;
		case '<':
			sb_puts(out, "&lt;");
			break;
		case '>':
			sb_puts(out, "&gt;");
			break;
		case '\'':
			sb_puts(out, "&apos;");
			break;
		case '"':
			sb_puts(out, "&quot;");
			break;
		default:
			sb_putc(out, *s);
		}
}

void starttls_talk_init(struct starttls_talk *t, enum starttls_proto p, const char *host,
			const char *helo, struct sbuf *out)
{
	memset(t, 0, sizeof *t);
	t->proto = p;
	snprintf(t->host, sizeof t->host, "%s", host ? host : "");
	snprintf(t->helo, sizeof t->helo, "%s", helo && *helo ? helo : "localhost");
	switch (p) {
	case STARTTLS_POSTGRES:
		sb_putn(out, (const char *)pg_sslrequest, sizeof pg_sslrequest);
		break;
	case STARTTLS_LDAP: {
		size_t n = sizeof ldap_oid - 1;
		/* SEQUENCE { INTEGER 1, [APPLICATION 23] { [0] oid } } */
		unsigned char h[] = {
		    0x30, (unsigned char)(n + 7), 0x02, 0x01, 0x01, 0x77, (unsigned char)(n + 2),
		    0x80, (unsigned char)n};
		sb_putn(out, (const char *)h, sizeof h);
		sb_putn(out, ldap_oid, n);
		break;
	}
	case STARTTLS_XMPP:
		sb_puts(out, "<?xml version='1.0'?><stream:stream to='");
		xml_attr(out, t->host);
		sb_puts(out,
			"' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
			"version='1.0'>");
		break;
	default: /* the server speaks first */
		break;
	}
}

/* Takes one line (without its CR LF) off the input; false if no whole
 * line is there yet. The line stays valid until the next call. */
static bool take_line(struct starttls_talk *t, char *line, size_t cap, size_t *len)
{
	char *nl = memchr(t->in, '\n', t->inlen);
	if (!nl)
		return false;
	size_t n = (size_t)(nl - t->in), used = n + 1;
	if (n && t->in[n - 1] == '\r')
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(line, t->in, n);
	line[n] = 0;
	memmove(t->in, t->in + used, t->inlen - used);
	t->inlen -= used;
	*len = n;
	return true;
}

/* An SMTP or FTP reply line: its code, and whether more lines follow
 * ("250-..." and, for FTP, lines without a code inside "220-" ... "220 ").
 * 0 when the line is not part of a reply. */
static int reply_code(const char *line, size_t n, int open_code, bool *more)
{
	bool coded = n >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' &&
		     line[1] <= '9' && line[2] >= '0' && line[2] <= '9' &&
		     (n == 3 || line[3] == ' ' || line[3] == '-');
	int code = coded ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') : 0;
	if (open_code) {
		/* Inside a multi-line reply only "CODE " (or "CODE" alone) ends it. */
		*more = !(code == open_code && (n == 3 || line[3] == ' '));
		return open_code;
	}
	*more = coded && n > 3 && line[3] == '-';
	return code;
}

/* SMTP's EHLO reply line offers STARTTLS ("250-STARTTLS"). */
static bool offers_starttls(const char *line, size_t n)
{
	if (n < 12 || strncasecmp(line + 4, "STARTTLS", 8))
		return false;
	return n == 12 || line[12] == ' ';
}

static int step_smtp_ftp(struct starttls_talk *t, struct sbuf *out, char *err, size_t errlen)
{
	char line[1024];
	size_t n;
	if (!take_line(t, line, sizeof line, &n))
		return STARTTLS_MORE;
	bool more;
	int code = reply_code(line, n, t->open_code, &more);
	int step = t->step;
	bool ftp = t->proto == STARTTLS_FTP;
	if (!code)
		return fail(err, errlen,
			    step == 0 ? "STARTTLS: not a greeting" : "STARTTLS: not a reply", line,
			    n);
	if (step == 1 && offers_starttls(line, n))
		t->offered = true;
	t->open_code = more ? code : 0;
	if (more)
		return AGAIN;
	switch (step) {
	case 0:
		if (code != 220)
			return fail(err, errlen, "STARTTLS: the server's greeting", line, n);
		if (ftp)
			sb_puts(out, "AUTH TLS\r\n");
		else
			sb_printf(out, "%s %s\r\n", t->proto == STARTTLS_LMTP ? "LHLO" : "EHLO",
				  t->helo);
		t->step = 1;
		return AGAIN;
	case 1:
		if (ftp) {
			if (code != 234)
				return fail(err, errlen, "STARTTLS: the reply to AUTH TLS", line,
					    n);
			return STARTTLS_DONE;
		}
		if (code != 250)
			return fail(err, errlen,
				    t->proto == STARTTLS_LMTP ? "STARTTLS: the reply to LHLO"
							      : "STARTTLS: the reply to EHLO",
				    line, n);
		if (!t->offered)
			return fail(err, errlen, "STARTTLS: the server does not offer STARTTLS",
				    NULL, 0);
		sb_puts(out, "STARTTLS\r\n");
		t->step = 2;
		return AGAIN;
	default:
		if (code != 220)
			return fail(err, errlen, "STARTTLS: the reply to STARTTLS", line, n);
		return STARTTLS_DONE;
	}
}

static int step_pop3(struct starttls_talk *t, struct sbuf *out, char *err, size_t errlen)
{
	char line[1024];
	size_t n;
	if (!take_line(t, line, sizeof line, &n))
		return STARTTLS_MORE;
	bool ok = !strncmp(line, "+OK", 3);
	if (t->step == 0) {
		if (!ok)
			return fail(err, errlen, "STARTTLS: the server's greeting", line, n);
		sb_puts(out, "STLS\r\n");
		t->step = 1;
		return AGAIN;
	}
	if (!ok)
		return fail(err, errlen, "STARTTLS: the reply to STLS", line, n);
	return STARTTLS_DONE;
}

static int step_imap(struct starttls_talk *t, struct sbuf *out, char *err, size_t errlen)
{
	char line[1024];
	size_t n;
	if (!take_line(t, line, sizeof line, &n))
		return STARTTLS_MORE;
	if (t->step == 0) {
		if (strncasecmp(line, "* OK", 4) && strncasecmp(line, "* PREAUTH", 9))
			return fail(err, errlen, "STARTTLS: the server's greeting", line, n);
		sb_puts(out, "a1 STARTTLS\r\n");
		t->step = 1;
		return AGAIN;
	}
	if (!strncmp(line, "* ", 2)) /* untagged: a CAPABILITY line */
		return AGAIN;
	if (!strncasecmp(line, "a1 OK", 5))
		return STARTTLS_DONE;
	return fail(err, errlen, "STARTTLS: the reply to STARTTLS", line, n);
}

/* The end of an element called NAME, with any namespace prefix:
 * "</stream:features>" for "features". Returns just past it, or NULL. */
static const char *xml_end_tag(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);
	for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), name, k));) {
		const char *e = q + k;
		const char *b = q;
		while (b > p && (b[-1] == ':' || b[-1] == '_' || b[-1] == '-' ||
				 (b[-1] >= 'a' && b[-1] <= 'z') || (b[-1] >= 'A' && b[-1] <= 'Z') ||
				 (b[-1] >= '0' && b[-1] <= '9')))
			b--;
		q = e;
		if (e < p + n && *e == '>' && b - p >= 2 && b[-1] == '/' && b[-2] == '<')
			return e + 1;
	}
	return NULL;
}

static int step_xmpp(struct starttls_talk *t, struct sbuf *out, char *err, size_t errlen)
{
	if (t->step == 0) {
		if (xml_end_tag(t->in, t->inlen, "error"))
			return fail(err, errlen, "STARTTLS: the server ended the XMPP stream",
				    t->in, t->inlen);
		const char *end = xml_end_tag(t->in, t->inlen, "features");
		if (!end)
			return STARTTLS_MORE;
		if (!memmem(t->in, (size_t)(end - t->in), "<starttls", 9))
			return fail(err, errlen,
				    "STARTTLS: the server does not offer STARTTLS in its features",
				    NULL, 0);
		size_t used = (size_t)(end - t->in);
		memmove(t->in, end, t->inlen - used);
		t->inlen -= used;
		sb_puts(out, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
		t->step = 1;
		return AGAIN;
	}
	const char *p = memmem(t->in, t->inlen, "<proceed", 8);
	if (!p) {
		if (memmem(t->in, t->inlen, "<failure", 8))
			return fail(err, errlen, "STARTTLS: the server refused", t->in, t->inlen);
		return STARTTLS_MORE;
	}
	const char *gt = memchr(p, '>', t->inlen - (size_t)(p - t->in));
	if (!gt)
		return STARTTLS_MORE;
	size_t used = (size_t)(gt + 1 - t->in);
	memmove(t->in, gt + 1, t->inlen - used);
	t->inlen -= used;
	return STARTTLS_DONE;
}

static int step_postgres(struct starttls_talk *t, char *err, size_t errlen)
{
	if (!t->inlen)
		return STARTTLS_MORE;
	char c = t->in[0];
	memmove(t->in, t->in + 1, --t->inlen);
	if (c == 'S')
		return STARTTLS_DONE;
	if (c == 'N')
		return fail(err, errlen, "STARTTLS: the PostgreSQL server does not accept SSL",
			    NULL, 0);
	if (c == 'E')
		return fail(
		    err, errlen,
		    "STARTTLS: the PostgreSQL server answered the SSL request with an error", NULL,
		    0);
	return fail(err, errlen, "STARTTLS: not a PostgreSQL answer", &c, 1);
}

/* A BER tag and length at p (n bytes there): false if incomplete (*hl
 * 0) or not something we read (*hl SIZE_MAX). */
static bool ber_head(const unsigned char *p, size_t n, unsigned char *tag, size_t *len, size_t *hl)
{
	*hl = 0;
	if (n < 2)
		return false;
	*tag = p[0];
	if (p[1] < 0x80) {
		*len = p[1];
		*hl = 2;
	} else if (p[1] == 0x81 || p[1] == 0x82 || p[1] == 0x83) {
		size_t k = (size_t)(p[1] - 0x80);
		if (n < 2 + k)
			return false;
		*len = 0;
		for (size_t i = 0; i < k; i++)
			*len = *len << 8 | p[2 + i];
		*hl = 2 + k;
	} else {
		*hl = SIZE_MAX;
		return false;
	}
	return true;
}

static int step_ldap(struct starttls_talk *t, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)t->in;
	unsigned char tag;
	size_t len, hl;
	if (!ber_head(p, t->inlen, &tag, &len, &hl)) {
		if (hl == SIZE_MAX)
			return fail(err, errlen, "STARTTLS: not an LDAP message", t->in,
				    t->inlen < 8 ? t->inlen : 8);
		return STARTTLS_MORE;
	}
	if (tag != 0x30)
		return fail(err, errlen, "STARTTLS: not an LDAP message", t->in,
			    t->inlen < 8 ? t->inlen : 8);
	if (len > sizeof t->in - hl)
		return fail(err, errlen, "STARTTLS: the LDAP answer is too long", NULL, 0);
	if (t->inlen < hl + len)
		return STARTTLS_MORE;
	size_t whole = hl + len;
	/* messageID INTEGER, then ExtendedResponse [APPLICATION 24], whose
	 * first field is resultCode ENUMERATED. */
	const unsigned char *q = p + hl, *end = p + whole;
	size_t ql, qh;
	unsigned char qt;
	if (!ber_head(q, (size_t)(end - q), &qt, &ql, &qh) || qt != 0x02 ||
	    ql > (size_t)(end - q - qh))
		goto bad;
	q += qh + ql;
	if (!ber_head(q, (size_t)(end - q), &qt, &ql, &qh) || qt != 0x78 ||
	    ql > (size_t)(end - q - qh))
		goto bad;
	q += qh;
	end = q + ql;
	if (!ber_head(q, (size_t)(end - q), &qt, &ql, &qh) || qt != 0x0a || ql != 1 ||
	    ql > (size_t)(end - q - qh))
		goto bad;
	int code = q[qh];
	if (code == 0) {
		memmove(t->in, t->in + whole, t->inlen - whole);
		t->inlen -= whole;
		return STARTTLS_DONE;
	}
	/* matchedDN, then diagnosticMessage: the server's reason. */
	q += qh + ql;
	const char *why = NULL;
	size_t wn = 0;
	if (ber_head(q, (size_t)(end - q), &qt, &ql, &qh) && qt == 0x04 &&
	    ql <= (size_t)(end - q - qh)) {
		q += qh + ql;
		if (ber_head(q, (size_t)(end - q), &qt, &ql, &qh) && qt == 0x04 &&
		    ql <= (size_t)(end - q - qh)) {
			why = (const char *)q + qh;
			wn = ql;
		}
	}
	char what[80];
	snprintf(what, sizeof what, "STARTTLS: the LDAP server refused (result %d)", code);
	return fail(err, errlen, what, why, wn);
bad:
	return fail(err, errlen, "STARTTLS: not an LDAP extended response", NULL, 0);
}

int starttls_talk_feed(struct starttls_talk *t, const void *data, size_t n, struct sbuf *out,
		       char *err, size_t errlen)
{
	if (n > sizeof t->in - t->inlen)
		return fail(err, errlen, "STARTTLS: the server's reply is longer than 16 KiB", NULL,
			    0);
	memcpy(t->in + t->inlen, data, n);
	t->inlen += n;
	for (;;) {
		int r;
		switch (t->proto) {
		case STARTTLS_SMTP:
		case STARTTLS_LMTP:
		case STARTTLS_FTP:
			r = step_smtp_ftp(t, out, err, errlen);
			break;
		case STARTTLS_POP3:
			r = step_pop3(t, out, err, errlen);
			break;
		case STARTTLS_IMAP:
			r = step_imap(t, out, err, errlen);
			break;
		case STARTTLS_XMPP:
			r = step_xmpp(t, out, err, errlen);
			break;
		case STARTTLS_POSTGRES:
			r = step_postgres(t, err, errlen);
			break;
		default:
			r = step_ldap(t, err, errlen);
			break;
		}
		if (r == AGAIN)
			continue;
		if (r == STARTTLS_DONE && t->inlen)
			return fail(err, errlen,
				    "STARTTLS: the server sent more after agreeing (it would be "
				    "taken for TLS)",
				    t->in, t->inlen);
		if (r == STARTTLS_MORE && t->inlen == sizeof t->in)
			return fail(err, errlen,
				    "STARTTLS: the server's reply is longer than 16 KiB", NULL, 0);
		return r;
	}
}
