#!/usr/bin/env python3
"""A scripted STARTTLS server for tests/starttls.bats: one connection on
127.0.0.1 port 0, the protocol's plaintext preamble as a real server of
that kind answers it, then TLS, then every line received is sent back
upper-cased until the client's close_notify.

  starttls_peer.py PROTO CERT KEY [refuse|nooffer]

refuse: the server says no to the STARTTLS request; nooffer: SMTP/XMPP
servers do not offer it. What the client sent before TLS goes to stderr
("client said: ..."), for the test to check. The readiness line on stderr
is sockctl's: "listening on 127.0.0.1:PORT".
"""
import socket
import ssl
import struct
import sys


def lines(f):
    line = f.readline()
    if not line:
        raise EOFError("the client closed during the preamble")
    print("client said: %r" % line, file=sys.stderr, flush=True)
    return line


def preamble(proto, raw, mode):
    """Runs the plaintext part; True when TLS follows."""
    f = raw.makefile("rwb", buffering=0)
    say = f.write
    refuse = mode == "refuse"
    if proto in ("smtp", "lmtp"):
        say(b"220-mx.test ESMTP\r\n220 ready\r\n")
        hello = lines(f)
        want = b"LHLO " if proto == "lmtp" else b"EHLO "
        if not hello.startswith(want):
            say(b"500 say hello first\r\n")
            return False
        caps = b"250-mx.test\r\n250-PIPELINING\r\n"
        if mode != "nooffer":
            caps += b"250-STARTTLS\r\n"
        say(caps + b"250 8BITMIME\r\n")
        if lines(f) != b"STARTTLS\r\n":
            return False
        if refuse:
            say(b"454 4.7.0 TLS not available due to local problem\r\n")
            return False
        say(b"220 2.0.0 Ready to start TLS\r\n")
        return True
    if proto == "imap":
        say(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
        tag, cmd = lines(f).split(b" ", 1)
        if cmd.strip().upper() != b"STARTTLS":
            return False
        if refuse:
            say(tag + b" NO not now\r\n")
            return False
        say(tag + b" OK Begin TLS negotiation now\r\n")
        return True
    if proto == "pop3":
        say(b"+OK POP3 ready\r\n")
        if lines(f) != b"STLS\r\n":
            return False
        say(b"-ERR no\r\n" if refuse else b"+OK Begin TLS negotiation\r\n")
        return not refuse
    if proto == "ftp":
        say(b"220-Welcome\r\n to the test\r\n220 ready\r\n")
        if lines(f) != b"AUTH TLS\r\n":
            return False
        say(b"534 no TLS\r\n" if refuse else b"234 AUTH TLS successful\r\n")
        return not refuse
    if proto == "xmpp":
        buf = b""
        while b"<stream:stream" not in buf or not buf.endswith(b">"):
            b = raw.recv(4096)
            if not b:
                return False
            buf += b
        print("client said: %r" % buf, file=sys.stderr, flush=True)
        feats = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
        say(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            b"xmlns:stream='http://etherx.jabber.org/streams' id='t1' from='xmpp.test' "
            b"version='1.0'><stream:features>" + (b"" if mode == "nooffer" else feats) +
            b"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>")
        buf = b""
        while b"/>" not in buf:
            b = raw.recv(4096)
            if not b:
                return False
            buf += b
        print("client said: %r" % buf, file=sys.stderr, flush=True)
        if refuse:
            say(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
            return False
        say(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        return True
    if proto == "postgres":
        req = raw.recv(8)
        print("client said: %r" % req, file=sys.stderr, flush=True)
        if req != struct.pack("!II", 8, 80877103):
            return False
        say(b"N" if refuse else b"S")
        return not refuse
    if proto == "ldap":
        req = raw.recv(4096)
        print("client said: %r" % req, file=sys.stderr, flush=True)
        if b"1.3.6.1.4.1.1466.20037" not in req:
            return False
        code = 2 if refuse else 0
        diag = b"no TLS here" if refuse else b""
        body = (b"\x02\x01\x01" + b"\x78" + bytes([7 + len(diag)]) + b"\x0a\x01" +
                bytes([code]) + b"\x04\x00\x04" + bytes([len(diag)]) + diag)
        say(b"\x30" + bytes([len(body)]) + body)
        return not refuse
    raise SystemExit("unknown protocol " + proto)


def main():
    proto, cert, key = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print("listening on 127.0.0.1:%d (starttls)" % ls.getsockname()[1], file=sys.stderr,
          flush=True)
    raw, _ = ls.accept()
    raw.settimeout(20)
    try:
        if not preamble(proto, raw, mode):
            raw.close()
            return 0
    except EOFError as e:
        print(e, file=sys.stderr)
        return 1
    s = ctx.wrap_socket(raw, server_side=True)
    f = s.makefile("rwb", buffering=0)
    for line in f:
        f.write(line.upper())
    s.unwrap()
    raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
