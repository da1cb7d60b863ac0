/* Unit tests for the DNS text and message modules. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dns_fmt.h"
#include "dns_msg.h"
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

int main(void)
{
	test_escapes();
	test_sbuf();
	test_types();
	test_reverse();
	test_message();
	test_wire();
	tap_done();
}
