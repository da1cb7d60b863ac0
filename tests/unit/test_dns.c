/* Unit tests for the DNS text and message modules. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dns/dns_fmt.h"
#include "dns/dns_msg.h"
#include "dns/dns_xfr.h"
#include "tap.h"

static const char *esc_label(const char *s, size_t n)
{
	static struct sbuf b;
	sb_free(&b);
	dns_escape_label(&b, (const uint8_t *)s, n);
	return sb_str(&b);
}

static const char *esc_text(const char *s, size_t n)
{
	static struct sbuf b;
	sb_free(&b);
	dns_escape_text(&b, (const uint8_t *)s, n);
	return sb_str(&b);
}

static const char *esc_host(const char *s)
{
	static struct sbuf b;
	sb_free(&b);
	dns_escape_host(&b, s);
	return sb_str(&b);
}

static const char *json(const char *s, size_t n)
{
	static struct sbuf b;
	sb_free(&b);
	json_string(&b, s, n);
	return sb_str(&b);
}

static void test_escapes(void)
{
	ok(strcmp(esc_label("www", 3), "www") == 0, "plain label");
	ok(strcmp(esc_label("a.b", 3), "a\\.b") == 0, "dot in a label");
	ok(strcmp(esc_label("x\033[31m\a", 7), "x\\027[31m\\007") == 0, "ESC and BEL as \\DDD");
	ok(strcmp(esc_label("a b\\\"()", 7), "a\\032b\\\\\\\"\\(\\)") == 0, "space and specials");
	ok(strcmp(esc_label("\xff\x00", 2), "\\255\\000") == 0, "high byte and NUL");
	ok(strcmp(esc_text("say \"hi\"\\", 9), "say \\\"hi\\\"\\\\") == 0, "quotes in text");
	ok(strcmp(esc_text("a b\r\n", 5), "a b\\013\\010") == 0, "space kept, CR LF escaped");
	ok(strcmp(esc_host("evil\033]0;x\a.example"), "evil\\027]0;x\\007.example") == 0,
	   "host name from a resolver");
	ok(strcmp(esc_host("a\\b"), "a\\\\b") == 0, "backslash in a host name");
	ok(strcmp(json("a\"b\\c\n\x01\xc3", 8), "\"a\\\"b\\\\c\\u000a\\u0001\\u00c3\"") == 0,
	   "JSON string escapes");
}

static void test_sbuf(void)
{
	struct sbuf b;
	sb_init(&b);
	ok(strcmp(sb_str(&b), "") == 0, "empty sbuf is \"\"");
	for (int i = 0; i < 1000; i++)
		sb_printf(&b, "%04d", i);
	ok(b.len == 4000 && !b.oom && memcmp(b.p + 3996, "0999", 4) == 0, "sbuf grows");
	char big[4096];
	memset(big, 'x', sizeof big);
	for (int i = 0; i < 300 && !b.oom; i++)
		sb_putn(&b, big, sizeof big);
	ok(b.oom && b.len < SBUF_MAX, "sbuf stops at its limit and says so");
	sb_free(&b);
}

static void test_types(void)
{
	char buf[16];
	ok(dns_type_parse("mx") == DNS_T_MX, "type names are case-insensitive");
	ok(dns_type_parse("CAA") == 257, "CAA");
	ok(dns_type_parse("TYPE65280") == 65280, "TYPEnnn");
	ok(dns_type_parse("99") == 99, "a bare number");
	ok(dns_type_parse("TYPE70000") == -1 && dns_type_parse("BOGUS") == -1 &&
	       dns_type_parse("") == -1,
	   "unknown types rejected");
	ok(strcmp(dns_type_name(DNS_T_SRV, buf), "SRV") == 0, "SRV name");
	ok(strcmp(dns_type_name(999, buf), "TYPE999") == 0, "unknown type name");
	ok(strcmp(dns_rcode_name(3, buf), "NXDOMAIN") == 0 &&
	       strcmp(dns_rcode_name(5, buf), "REFUSED") == 0 &&
	       strcmp(dns_rcode_name(23, buf), "RCODE23") == 0,
	   "rcode names");
}

static void test_reverse(void)
{
	char out[128];
	ok(dns_reverse_name("192.0.2.1", out, sizeof out) &&
	       strcmp(out, "1.2.0.192.in-addr.arpa") == 0,
	   "IPv4 reverse name");
	ok(dns_reverse_name("2001:db8::1", out, sizeof out) &&
	       strcmp(out,
		      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa") ==
		   0,
	   "IPv6 reverse name");
	ok(dns_reverse_name("fe80::1%lo", out, sizeof out), "zone dropped");
	ok(!dns_reverse_name("www.example", out, sizeof out), "a name is not an address");
	ok(!dns_reverse_name("192.0.2.1", out, 10), "too small a buffer");
}

/* A response to www.example. A with: a CNAME (compressed), an A, a TXT
 * with control bytes, an MX, a SOA in authority, and an OPT. */
static const uint8_t msg[] = {0x12, 0x34, 0x85, 0x80, 0, 1, 0, 4, 0, 1, 0, 1,
			      /* 12: question www.example. A IN */
			      3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
			      /* 29: www.example. CNAME ttl 60 -> web.(ptr 16) */
			      0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'e', 'b', 0xc0, 16,
			      /* web.example. A 192.0.2.1 */
			      0xc0, 41, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
			      /* TXT "a\033b" "" */
			      0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 5, 3, 'a', 0x1b, 'b', 0,
			      /* MX 10 (ptr 16) */
			      0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 1, 0, 4, 0, 10, 0xc0, 16,
			      /* authority: example. SOA a. b. 1 2 3 4 5 */
			      0xc0, 16, 0, 6, 0, 1, 0, 0, 1, 0, 0, 26, 1, 'a', 0, 1, 'b', 0, 0, 0,
			      0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5,
			      /* additional: OPT with extended rcode 1 -> rcode 16 + 0 */
			      0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0};

static void test_message(void)
{
	struct dns_msg m;
	struct dns_rr rr;
	struct sbuf b;
	sb_init(&b);
	ok(dns_msg_init(&m, msg, sizeof msg) == 0, "message parses");
	ok(strcmp(m.qname, "www.example.") == 0 && m.qtype == 1 && m.id == 0x1234,
	   "question and id");
	ok((m.flags & DNS_FLAG_AA) && (m.flags & DNS_FLAG_RD) && !(m.flags & DNS_FLAG_TC), "flags");
	const char *want[][3] = {
	    {"www.example.", "CNAME", "web.example."},	 {"web.example.", "A", "192.0.2.1"},
	    {"www.example.", "TXT", "\"a\\027b\" \"\""}, {"www.example.", "MX", "10 example."},
	    {"example.", "SOA", "a. b. 1 2 3 4 5"},	 {".", "OPT", ""},
	};
	char tb[16];
	for (int i = 0; i < 6; i++) {
		int r = dns_msg_next(&m, &rr);
		sb_reset(&b);
		if (rr.type != DNS_T_OPT)
			dns_rdata_format(&m, &rr, &b);
		ok(r == 1 && strcmp(rr.name, want[i][0]) == 0 &&
		       strcmp(dns_type_name(rr.type, tb), want[i][1]) == 0 &&
		       (rr.type == DNS_T_OPT || strcmp(sb_str(&b), want[i][2]) == 0),
		   "record %d: %s %s %s", i, rr.name, dns_type_name(rr.type, tb), sb_str(&b));
	}
	ok(rr.section == DNS_SEC_ADDITIONAL, "OPT in the additional section");
	ok(dns_msg_next(&m, &rr) == 0, "end of records");
	ok(m.rcode == 16, "extended rcode from OPT");

	/* Every truncation of the message is malformed somewhere, never a
	 * crash (the sanitizer run checks the reads). */
	int bad = 0, first_ok = -1;
	for (size_t n = 0; n < sizeof msg; n++) {
		/* Exactly n bytes on the heap, so that ASan sees any over-read. */
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, msg, n);
		int r = dns_msg_init(&m, cut, n);
		if (r == 0)
			while ((r = dns_msg_next(&m, &rr)) == 1)
				;
		free(cut);
		bad += r < 0;
		if (r >= 0 && first_ok < 0)
			first_ok = (int)n;
	}
	ok(bad == (int)sizeof msg, "every truncated copy is reported malformed (%d parsed)",
	   first_ok);

	/* A compression loop and a forward pointer. */
	uint8_t loop[] = {0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
	ok(dns_msg_init(&m, loop, sizeof loop) < 0, "pointer to itself rejected");
	uint8_t fwd[] = {0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1};
	ok(dns_msg_init(&m, fwd, sizeof fwd) < 0, "forward pointer rejected");
	/* An unknown type prints as RFC 3597 generic data. */
	uint8_t unk[] = {0,    0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0,	   0,	0,
			 0xff, 0, 0,	1, 0, 0, 0, 0, 0, 2, 0xab, 0xcd};
	ok(dns_msg_init(&m, unk, sizeof unk) == 0 && dns_msg_next(&m, &rr) == 1, "unknown type");
	sb_reset(&b);
	ok(dns_rdata_format(&m, &rr, &b) == 0 && strcmp(sb_str(&b), "\\# 2 abcd") == 0,
	   "generic data: %s", sb_str(&b));
	/* An A record of the wrong length is malformed. */
	unk[13] = 0, unk[14] = 1;
	ok(dns_msg_init(&m, unk, sizeof unk) == 0 && dns_msg_next(&m, &rr) == 1 &&
	       dns_rdata_format(&m, &rr, &b) < 0,
	   "A with 2 bytes is malformed");
	sb_free(&b);
}

static void test_wire(void)
{
	uint8_t w[300];
	char back[DNS_PRES_MAX];
	size_t off = 0;
	ok(dns_name_to_wire("www.example", w, sizeof w) == 13 &&
	       memcmp(w, "\003www\007example\000", 13) == 0,
	   "a name in wire format");
	ok(dns_name_to_wire("www.example.", w, sizeof w) == 13, "the final dot is optional");
	ok(dns_name_to_wire(".", w, sizeof w) == 1 && w[0] == 0, "the root");
	ok(dns_name_to_wire("a\\.b\\065.c", w, sizeof w) == 8 &&
	       memcmp(w, "\004a.bA\001c\000", 8) == 0,
	   "\\. and \\DDD escapes");
	ok(dns_read_name(w, 8, &off, back, sizeof back) == 0 && strcmp(back, "a\\.bA.c.") == 0,
	   "and back: %s", back);
	char label[80], name[400];
	memset(label, 'x', 64);
	label[64] = '\0';
	ok(dns_name_to_wire(label, w, sizeof w) < 0, "a 64-byte label is refused");
	label[63] = '\0';
	ok(dns_name_to_wire(label, w, sizeof w) == 65, "a 63-byte label is not");
	snprintf(name, sizeof name, "%s.%s.%s.%s", label, label, label, label);
	ok(dns_name_to_wire(name, w, sizeof w) < 0, "a name over 255 bytes is refused");
	name[strlen(name) - 2] = '\0';
	ok(dns_name_to_wire(name, w, sizeof w) == 255, "255 bytes is not");
	ok(dns_name_to_wire("", w, sizeof w) < 0 && dns_name_to_wire("a..b", w, sizeof w) < 0 &&
	       dns_name_to_wire(".a", w, sizeof w) < 0 && dns_name_to_wire("a\\", w, sizeof w) < 0 &&
	       dns_name_to_wire("a\\25", w, sizeof w) < 0 &&
	       dns_name_to_wire("a\\256", w, sizeof w) < 0,
	   "empty labels and bad escapes are refused");
	ok(dns_name_to_wire("www.example", w, 12) < 0, "too small a buffer");

	struct dns_msg m;
	int n = dns_query_build(w, sizeof w, 0xbeef, "Zone.Example", DNS_T_AXFR, false);
	ok(n == 12 + 14 + 4 && dns_msg_init(&m, w, (size_t)n) == 0 && m.id == 0xbeef &&
	       m.flags == 0 && m.count[0] == 1 && m.count[1] == 0 &&
	       strcmp(m.qname, "Zone.Example.") == 0 && m.qtype == DNS_T_AXFR && m.qclass == 1,
	   "an AXFR query");
	n = dns_query_build(w, sizeof w, 1, "x", DNS_T_A, true);
	ok(n > 0 && dns_msg_init(&m, w, (size_t)n) == 0 && m.flags == DNS_FLAG_RD, "RD");
	ok(dns_query_build(w, sizeof w, 1, "a..b", DNS_T_A, true) < 0, "not a name");
}

/* A transfer stream: messages of records, each framed with its length. */
struct stream {
	uint8_t b[4096];
	size_t len;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* Appends a response message: id, flags, a question if qd, and records
 * given as raw bytes. */
static void add_msg(struct stream *s, unsigned id, unsigned flags, bool qd, const uint8_t *rrs,
		    size_t rrlen, unsigned nrr)
{
	uint8_t *m = s->b + s->len + 2;
	size_t n = 12;
	put16(m, id);
	put16(m + 2, flags);
	put16(m + 4, qd);
	put16(m + 6, nrr);
	memset(m + 8, 0, 4);
	if (qd) {
		memcpy(m + n, "\004zone\000\000\374\000\001", 10);
		n += 10;
	}
	if (rrlen)
		memcpy(m + n, rrs, rrlen);
	n += rrlen;
	put16(s->b + s->len, (unsigned)n);
	s->len += 2 + n;
}

/* zone. SOA, a.zone. A 192.0.2.1, b.zone. TXT "hi" */
static const uint8_t SOA[] = {4, 'z', 'o', 'n', 'e', 0, 0, 6, 0, 1, 0, 0, 0, 60, 0, 27,
			      /* ns. h. 7 1 2 3 4 */
			      2, 'n', 's', 0, 1, 'h', 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
			      3, 0, 0, 0, 4};
static const uint8_t A[] = {1, 'a', 4, 'z', 'o', 'n', 'e', 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
			    192, 0, 2, 1};
static const uint8_t TXT[] = {1, 'b', 4,   'z', 'o', 'n', 'e', 0,  0,  16, 0, 1, 0, 0,
			      0, 60,  0, 3, 2,   'h', 'i'};

static void cat(uint8_t *dst, size_t *n, const uint8_t *p, size_t len)
{
	memcpy(dst + *n, p, len);
	*n += len;
}

/* Feeds a stream in pieces of `step` bytes; returns the records read,
 * or -1 when the transfer failed. */
static int run_xfr(struct dns_xfr *x, const struct stream *s, size_t step)
{
	int records = 0;
	size_t at = 0;
	while (at < s->len && !x->done) {
		size_t n = s->len - at < step ? s->len - at : step, used;
		enum dns_xfr_ret r = dns_xfr_feed(x, s->b + at, n, &used);
		at += used;
		if (r == DNS_XFR_FAIL)
			return -1;
		if (r != DNS_XFR_MSG)
			continue;
		struct dns_rr rr;
		int k;
		while ((k = dns_xfr_next(x, &rr)) == 1)
			records++;
		if (k < 0)
			return -1;
	}
	return x->done ? records : -2;
}

static void test_xfr(void)
{
	static struct dns_xfr x;
	struct stream s = {0};
	uint8_t rr[512];
	size_t n = 0;
	/* Three messages: SOA A | TXT | SOA, the question in the first only,
	 * and a query sent back (QR clear) in between, which is skipped. */
	cat(rr, &n, SOA, sizeof SOA);
	cat(rr, &n, A, sizeof A);
	add_msg(&s, 77, 0x8400, true, rr, n, 2);
	add_msg(&s, 77, 0x0000, true, NULL, 0, 0);
	add_msg(&s, 77, 0x8400, false, TXT, sizeof TXT, 1);
	add_msg(&s, 77, 0x8400, false, SOA, sizeof SOA, 1);
	for (size_t step = 1; step <= s.len; step += step < 8 ? 1 : 17) {
		dns_xfr_init(&x, 77, "ZONE");
		int got = run_xfr(&x, &s, step);
		if (got != 4 || x.messages != 3 || x.records != 4 || x.bytes != s.len) {
			ok(0, "pieces of %zu: %d records, %u messages (%s)", step, got, x.messages,
			   x.err);
			return;
		}
	}
	ok(1, "three messages in pieces of every size: 4 records, the query skipped");

	struct {
		const char *what;
		unsigned id, flags;
		int first; /* 0: SOA A, 1: A SOA, 2: no records, 3: SOA A SOA TXT */
		enum dns_xfr_fail fail;
		const char *err;
	} bad[] = {
	    {"another id", 78, 0x8400, 0, DNS_XFR_MALFORMED, "message 1 has id 78, the query had 77"},
	    {"REFUSED", 77, 0x8405, 0, DNS_XFR_RCODE, "REFUSED"},
	    {"NOTAUTH", 77, 0x8409, 0, DNS_XFR_RCODE, "NOTAUTH"},
	    {"truncated", 77, 0x8600, 0, DNS_XFR_MALFORMED, "message 1 is marked truncated"},
	    {"an opcode", 77, 0x8c00, 0, DNS_XFR_MALFORMED, "message 1 has opcode 1"},
	    {"no SOA first", 77, 0x8400, 1, DNS_XFR_MALFORMED,
	     "the transfer does not start with the SOA of zone."},
	    {"no records", 77, 0x8400, 2, DNS_XFR_NOTZONE,
	     "no records: zone. is not a zone of this server"},
	    {"after the end", 77, 0x8400, 3, DNS_XFR_MALFORMED, "records after the closing SOA"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct stream t = {0};
		n = 0;
		unsigned nrr = 2;
		if (bad[i].first == 1) {
			cat(rr, &n, A, sizeof A);
			cat(rr, &n, SOA, sizeof SOA);
		} else if (bad[i].first == 0 || bad[i].first == 3) {
			cat(rr, &n, SOA, sizeof SOA);
			cat(rr, &n, A, sizeof A);
		} else
			nrr = 0;
		if (bad[i].first == 3) {
			cat(rr, &n, SOA, sizeof SOA);
			cat(rr, &n, TXT, sizeof TXT);
			nrr = 4;
		}
		add_msg(&t, bad[i].id, bad[i].flags, true, rr, n, nrr);
		add_msg(&t, 77, 0x8400, false, SOA, sizeof SOA, 1);
		dns_xfr_init(&x, 77, "zone.");
		int got = run_xfr(&x, &t, t.len);
		ok(got == -1 && x.fail == bad[i].fail && strcmp(x.err, bad[i].err) == 0 &&
		       (bad[i].fail != DNS_XFR_RCODE || x.rcode == (int)(bad[i].flags & 15)),
		   "%s: %s", bad[i].what, x.err);
	}
	/* A frame too short for a header, and a stream that stops early. */
	uint8_t runt[] = {0, 3, 1, 2, 3};
	size_t used;
	dns_xfr_init(&x, 77, "zone");
	ok(dns_xfr_feed(&x, runt, sizeof runt, &used) == DNS_XFR_FAIL &&
	       strcmp(x.err, "a message of 3 bytes") == 0,
	   "a 3-byte message");
	s.len -= 5;
	dns_xfr_init(&x, 77, "zone");
	ok(run_xfr(&x, &s, 100) == -2 && !x.done && x.records == 3, "cut short: not done");
	ok(dns_xfr_init(&x, 1, "a..b") < 0, "a zone that is not a name");
}

int main(void)
{
	test_escapes();
	test_sbuf();
	test_types();
	test_reverse();
	test_message();
	test_wire();
	test_xfr();
	tap_done();
}
