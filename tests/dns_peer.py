#!/usr/bin/env python3
"""A scripted, misbehaving DNS server for the resolve tests, on one port of
127.0.0.1 for UDP and TCP.

usage: dns_peer.py MODE
MODE:
  reflect         send every query back as it came (QR=0), never answer
  reflect-answer  send the query back, then the real answer (A 192.0.2.99)
  tc-close        UDP: a truncated answer; TCP: accept, read, close
  tc-refuse       UDP: a truncated answer; TCP: nothing listens (RST)
  axfr-multi      AXFR of "zone.": five records in three messages
  axfr-refused    AXFR answered with REFUSED
  axfr-notauth    AXFR answered with NOTAUTH
  axfr-close      the first message (SOA and one record), then close
  axfr-stall      the first message, then silence with the connection open
  axfr-nosoa      the transfer does not start with the zone's SOA
  axfr-badid      the answer carries another message id
  axfr-query      the query sent back (QR=0)
  tcp-reverse     TCP: hold queries until two have come, answer them in
                  reverse order (A 192.0.2.99 for the question's name)
  tcp-one         TCP: answer the first query of a connection, then close
  slow            UDP: every query answered after 3 s, an A query with
                  127.0.0.1, any other with no records
Prints "dns_peer: listening on 127.0.0.1:PORT (udp+tcp)" on stderr when
ready, like sockctl's readiness line."""
import selectors
import socket
import struct
import sys
import time

mode = sys.argv[1]


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=60):
    return name(owner) + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def question(q):
    """The question section of a query (bytes after the header) and its end."""
    at = 12
    while q[at]:
        at += 1 + q[at]
    return q[12:at + 5]


def reply(q, rcode=0, tc=False, answers=(), qd=True, qid=None):
    flags = 0x8000 | (q[2] & 0x01) << 8 | 0x0400 | rcode | (0x0200 if tc else 0)
    if qid is None:
        qid = struct.unpack(">H", q[:2])[0]
    head = struct.pack(">HHHHHH", qid, flags, 1 if qd else 0, len(answers), 0, 0)
    return head + (question(q) if qd else b"") + b"".join(answers)


SOA = rr("zone.", 6, name("ns.zone.") + name("admin.zone.") + struct.pack(">5I", 7, 3600, 600, 86400, 300))
A1 = rr("a.zone.", 1, socket.inet_aton("192.0.2.1"))
A2 = rr("b.zone.", 1, socket.inet_aton("192.0.2.2"))
TXT = rr("t.zone.", 16, b"\x05hello")
NS = rr("zone.", 2, name("ns.zone."))


def udp_reply(q):
    if mode == "slow":
        qtype = struct.unpack(">H", q[len(question(q)) + 12 - 4:][:2])[0]
        if qtype == 1:
            return [reply(q, answers=[rr(qname(q), 1, socket.inet_aton("127.0.0.1"))])]
        return [reply(q)]
    if mode == "reflect":
        return [q]
    if mode == "reflect-answer":
        return [q, reply(q, answers=[rr("x.test.", 1, socket.inet_aton("192.0.2.99"))])]
    if mode in ("tc-close", "tc-refuse"):
        return [reply(q, tc=True)]
    return []


def qname(q):
    at, labels = 12, []
    while q[at]:
        labels.append(q[at + 1:at + 1 + q[at]].decode())
        at += 1 + q[at]
    return ".".join(labels) + "."


def tcp_replies(q):
    """Messages to send for one query over TCP, and whether to close after."""
    if mode in ("tcp-reverse", "tcp-one"):
        return [reply(q, answers=[rr(qname(q), 1, socket.inet_aton("192.0.2.99"))])], mode == "tcp-one"
    if mode == "reflect":
        return [q], False
    if mode == "reflect-answer":
        return udp_reply(q), False
    if mode == "tc-close":
        return [], True
    if mode == "axfr-multi":
        return [reply(q, answers=[SOA, NS]), reply(q, answers=[A1, A2], qd=False),
                reply(q, answers=[TXT, SOA], qd=False)], False
    if mode == "axfr-refused":
        return [reply(q, rcode=5)], False
    if mode == "axfr-notauth":
        return [reply(q, rcode=9)], False
    if mode == "axfr-close":
        return [reply(q, answers=[SOA, A1])], True
    if mode == "axfr-stall":
        return [reply(q, answers=[SOA, A1])], False
    if mode == "axfr-nosoa":
        return [reply(q, answers=[A1, SOA])], False
    if mode == "axfr-badid":
        return [reply(q, answers=[SOA, A1, SOA], qid=(struct.unpack(">H", q[:2])[0] + 1) & 0xffff)], False
    if mode == "axfr-query":
        return [q], False
    return [], True


# One port for both: a free UDP port whose TCP twin may be taken, so try
# again until both are ours.
for _ in range(100):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        tcp.bind(("127.0.0.1", port))
        break
    except OSError:
        udp.close()
        tcp.close()
else:
    sys.exit("dns_peer: no port free for both UDP and TCP")
# tc-refuse keeps the TCP port bound but not listening: a connect gets a
# reset, and no other program can take the port meanwhile.
if mode != "tc-refuse":
    tcp.listen(16)
sel = selectors.DefaultSelector()
sel.register(udp, selectors.EVENT_READ, "udp")
if mode != "tc-refuse":
    sel.register(tcp, selectors.EVENT_READ, "listen")
bufs = {}
held = {}
later = []  # slow: (when, message, peer) to send on UDP
sys.stderr.write("dns_peer: listening on 127.0.0.1:%d (udp+tcp)\n" % port)
sys.stderr.flush()

while True:
    wake = min(w for w, _, _ in later) - time.monotonic() if later else None
    ready = sel.select(max(wake, 0) if wake is not None else None)
    now = time.monotonic()
    for due in [x for x in later if x[0] <= now]:
        later.remove(due)
        udp.sendto(due[1], due[2])
    for key, _ in ready:
        if key.data == "udp":
            q, peer = udp.recvfrom(65535)
            for m in udp_reply(q):
                if mode == "slow":
                    later.append((time.monotonic() + 3, m, peer))
                else:
                    udp.sendto(m, peer)
        elif key.data == "listen":
            c, _ = tcp.accept()
            bufs[c] = b""
            sel.register(c, selectors.EVENT_READ, "conn")
        else:
            c = key.fileobj
            d = c.recv(65535)
            if not d:
                sel.unregister(c)
                c.close()
                continue
            bufs[c] += d
            # Every whole query received (several may come at once).
            while True:
                b = bufs[c]
                if len(b) < 2 or len(b) < 2 + struct.unpack(">H", b[:2])[0]:
                    break
                n = struct.unpack(">H", b[:2])[0]
                q, bufs[c] = b[2:2 + n], b[2 + n:]
                msgs, close = tcp_replies(q)
                if mode == "tcp-reverse":
                    held.setdefault(c, []).append(msgs[0])
                    if len(held[c]) < 2:
                        continue
                    msgs = held.pop(c)[::-1]
                for m in msgs:
                    c.sendall(struct.pack(">H", len(m)) + m)
                if close:
                    sel.unregister(c)
                    c.close()
                    break
