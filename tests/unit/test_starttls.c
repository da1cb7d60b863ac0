/* The STARTTLS dialogues: what the client sends, what the server's
 * replies lead to, fed whole and a byte at a time. */
#include "config.h"

#include <string.h>

#include "core/sbuf.h"
#include "net/starttls.h"
#include "tap.h"

struct run {
	int result;
	char err[400];
	struct sbuf sent; /* everything the client said, in order */
};

/* Feeds the server's bytes (whole, or in pieces of `piece` bytes) and
 * collects what the client sends. */
static void talk(struct run *r, enum starttls_proto p, const char *server, size_t n, size_t piece)
{
	static struct starttls_talk t;
	sb_init(&r->sent);
	r->err[0] = 0;
	starttls_talk_init(&t, p, "mail.example", "client.example", &r->sent);
	r->result = STARTTLS_MORE;
	for (size_t i = 0; i < n && r->result == STARTTLS_MORE; i += piece) {
		size_t k = n - i < piece ? n - i : piece;
		r->result = starttls_talk_feed(&t, server + i, k, &r->sent, r->err, sizeof r->err);
	}
}

/* want_sent: what the client must have sent (NULL: not checked; binary
 * with sent_len, else a string). npieces 1: fed whole only. */
static void feed(const char *name, enum starttls_proto p, const char *server, size_t n, int want,
		 const char *want_sent, size_t sent_len, const char *want_err, size_t npieces)
{
	size_t pieces[] = {n ? n : 1, 1, 3};
	if (want_sent && !sent_len)
		sent_len = strlen(want_sent);
	for (size_t i = 0; i < npieces; i++) {
		struct run r;
		talk(&r, p, server, n, pieces[i]);
		bool sent_ok =
		    !want_sent || (r.sent.len == sent_len &&
				   !memcmp(r.sent.len ? r.sent.p : "", want_sent, sent_len));
		bool err_ok = !want_err || strstr(r.err, want_err);
		ok(r.result == want && sent_ok && err_ok,
		   "%s (pieces of %zu): %d, sent %s, err '%s'", name, pieces[i], r.result,
		   sent_ok ? "as expected" : sb_str(&r.sent), r.err);
		sb_free(&r.sent);
	}
}

static void both(const char *name, enum starttls_proto p, const char *server, size_t n, int want,
		 const char *want_sent, const char *want_err)
{
	feed(name, p, server, n, want, want_sent, 0, want_err, 3);
}

#define S(x) x, sizeof x - 1

int main(void)
{
	enum starttls_proto p;
	ok(starttls_proto_parse("SMTP", &p) && p == STARTTLS_SMTP, "smtp by name, any case");
	ok(starttls_proto_parse("postgres", &p) && p == STARTTLS_POSTGRES, "postgres by name");
	ok(!starttls_proto_parse("http", &p), "http is not one");

	both("smtp", STARTTLS_SMTP,
	     S("220-mx.example ESMTP\r\n220 ready\r\n250-mx.example\r\n250-PIPELINING\r\n"
	       "250-STARTTLS\r\n250 8BITMIME\r\n220 2.0.0 go ahead\r\n"),
	     STARTTLS_DONE, "EHLO client.example\r\nSTARTTLS\r\n", NULL);
	both("smtp, STARTTLS last and lower case", STARTTLS_SMTP,
	     S("220 mx\r\n250-mx\r\n250 starttls\r\n220 go\r\n"), STARTTLS_DONE, NULL, NULL);
	both("smtp not offering STARTTLS", STARTTLS_SMTP,
	     S("220 mx\r\n250-mx\r\n250-STARTTLSX\r\n250 SIZE\r\n"), STARTTLS_FAIL,
	     "EHLO client.example\r\n", "does not offer STARTTLS");
	both("smtp refusing", STARTTLS_SMTP,
	     S("220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n"),
	     STARTTLS_FAIL, NULL, "the reply to STARTTLS: \"454 4.7.0 TLS not available\"");
	both("smtp busy greeting", STARTTLS_SMTP, S("554 no service\r\n"), STARTTLS_FAIL, "",
	     "greeting: \"554 no service\"");
	both("smtp waiting for more", STARTTLS_SMTP, S("220 mx\r\n250-mx\r\n"), STARTTLS_MORE,
	     "EHLO client.example\r\n", NULL);
	/* Bytes after the go-ahead in the same read (the driver stops
	 * reading at the go-ahead, so in pieces they are never seen). */
	feed("smtp with bytes after the go-ahead", STARTTLS_SMTP,
	     S("220 mx\r\n250 STARTTLS\r\n220 go\r\n\x16\x03"), STARTTLS_FAIL, NULL, 0,
	     "sent more after agreeing", 1);
	both("smtp: a reply that is not one", STARTTLS_SMTP, S("hello\r\n"), STARTTLS_FAIL, NULL,
	     "not a greeting");
	both("smtp: escape sequences are shown, not sent to the terminal", STARTTLS_SMTP,
	     S("554 \x1b[2Jgone\r\n"), STARTTLS_FAIL, NULL, "554 \\x1b[2Jgone");
	both("lmtp", STARTTLS_LMTP, S("220 lmtp\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n"),
	     STARTTLS_DONE, "LHLO client.example\r\nSTARTTLS\r\n", NULL);
	both("ftp, multi-line greeting with uncoded lines", STARTTLS_FTP,
	     S("220-Welcome\r\n  to the server\r\n220 ready\r\n234 AUTH TLS ok\r\n"), STARTTLS_DONE,
	     "AUTH TLS\r\n", NULL);
	both("ftp refusing", STARTTLS_FTP, S("220 ftp\r\n534 no\r\n"), STARTTLS_FAIL, NULL,
	     "the reply to AUTH TLS");
	both("pop3", STARTTLS_POP3, S("+OK POP3 ready\r\n+OK begin TLS\r\n"), STARTTLS_DONE,
	     "STLS\r\n", NULL);
	both("pop3 refusing", STARTTLS_POP3, S("+OK hi\r\n-ERR no\r\n"), STARTTLS_FAIL, NULL,
	     "the reply to STLS: \"-ERR no\"");
	both("imap", STARTTLS_IMAP,
	     S("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n* CAPABILITY IMAP4rev1\r\n"
	       "a1 OK begin TLS\r\n"),
	     STARTTLS_DONE, "a1 STARTTLS\r\n", NULL);
	both("imap refusing", STARTTLS_IMAP, S("* OK hi\r\na1 BAD no\r\n"), STARTTLS_FAIL, NULL,
	     "a1 BAD no");
	both("imap bye", STARTTLS_IMAP, S("* BYE busy\r\n"), STARTTLS_FAIL, "", "greeting");
	const char *xmpp_hello = "<?xml version='1.0'?><stream:stream to='mail.example' "
				 "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
				 "streams' version='1.0'>";
	char want[512];
	snprintf(want, sizeof want, "%s<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
		 xmpp_hello);
	both(
	    "xmpp", STARTTLS_XMPP,
	    S("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
	      "id='1' version='1.0'><stream:features><starttls "
	      "xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
	      "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
	    STARTTLS_DONE, want, NULL);
	both("xmpp without starttls", STARTTLS_XMPP,
	     S("<stream:stream><stream:features><bind/></stream:features>"), STARTTLS_FAIL,
	     xmpp_hello, "does not offer STARTTLS");
	both("xmpp failure", STARTTLS_XMPP,
	     S("<s:stream><s:features><starttls/></s:features><failure/>"), STARTTLS_FAIL, NULL,
	     "refused");
	both("xmpp stream error", STARTTLS_XMPP,
	     S("<stream:stream><stream:error><host-unknown/></stream:error>"), STARTTLS_FAIL, NULL,
	     "ended the XMPP stream");
	feed("postgres", STARTTLS_POSTGRES, S("S"), STARTTLS_DONE, "\0\0\0\x08\x04\xd2\x16\x2f", 8,
	     NULL, 3);
	both("postgres refusing", STARTTLS_POSTGRES, S("N"), STARTTLS_FAIL, NULL,
	     "does not accept SSL");
	static const char ldap_ok[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
				       0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
	both("ldap", STARTTLS_LDAP, ldap_ok, sizeof ldap_ok, STARTTLS_DONE,
	     "\x30\x1d\x02\x01\x01\x77\x18\x80\x16"
	     "1.3.6.1.4.1.1466.20037",
	     NULL);
	static const char ldap_no[] = {0x30, 0x0f, 0x02, 0x01, 0x01, 0x78, 0x0a, 0x0a, 0x01,
				       0x02, 0x04, 0x00, 0x04, 0x03, 'n',  'o',	 '!'};
	both("ldap refusing", STARTTLS_LDAP, ldap_no, sizeof ldap_no, STARTTLS_FAIL, NULL,
	     "(result 2): \"no!\"");
	both("ldap garbage", STARTTLS_LDAP, S("HTTP/1.1 400\r\n"), STARTTLS_FAIL, NULL,
	     "not an LDAP message");
	static const char ldap_huge[] = {0x30, 0x83, 0x7f, 0xff, 0xff};
	both("ldap length past the buffer", STARTTLS_LDAP, ldap_huge, sizeof ldap_huge,
	     STARTTLS_FAIL, NULL, "too long");
	/* A line that never ends. */
	static char endless[STARTTLS_BUF + 10];
	memset(endless, 'x', sizeof endless);
	both("a reply longer than the buffer", STARTTLS_SMTP, endless, sizeof endless,
	     STARTTLS_FAIL, NULL, "longer than 16 KiB");
	tap_done();
}
