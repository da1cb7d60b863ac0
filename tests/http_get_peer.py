#!/usr/bin/env python3
"""A scripted HTTP/1.1 peer for tests/http_get.bats: chunked bodies,
redirects, broken and stalled replies. Listens on 127.0.0.1 port 0 and
prints the readiness line sockctl's helpers read.

  http_get_peer.py [--tls CERT KEY]   with --tls, https (tests/https.bats)
"""
import socketserver
import ssl
import sys
import threading
import time

conn_ids = iter(range(1, 1 << 30))
# The big bodies: the same lines tests make with `seq -f %07.0f 0 262143`.
BIG = b"".join(b"%07d\n" % i for i in range(262144))
lock = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        with lock:
            self.conn = next(conn_ids)
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            target = line.split()[1].decode()
            headers = {}
            while True:
                h = self.rfile.readline(65537)
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            if not self.answer(target, headers):
                return

    def send(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def answer(self, target, headers):
        """Returns False to close the connection."""
        if target == "/chunked":
            self.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            # Pieces that split the framing at awkward places.
            for piece in (b"5;name=va", b"l\r\nhello\r", b"\nf", b"\r\n, chunked world", b"\r\n",
                          b"0\r\nX-Trailer: t\r\n\r\n"):
                self.send(piece)
                time.sleep(0.01)
            return True
        if target == "/conn":
            body = ("connection %d\n" % self.conn).encode()
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            return True
        if target == "/headers":
            body = "".join("%s=%s\n" % kv for kv in sorted(headers.items())).encode()
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            return True
        if target.startswith("/redirect/"):
            n = int(target.split("/")[2])
            loc = "/chunked" if n == 0 else "/redirect/%d" % (n - 1)
            self.send(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 5\r\n\r\nmoved"
                      % loc.encode())
            return True
        if target.startswith("/to?"):
            # A redirect to the URL in the query (another server).
            self.send(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                      % target[4:].encode())
            return True
        if target == "/loop":
            self.send(b"HTTP/1.1 301 Moved\r\nLocation: loop\r\nContent-Length: 0\r\n\r\n")
            return True
        if target == "/truncated":
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            return False
        if target == "/truncated-chunked":
            self.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
            return False
        if target == "/empty":
            return False
        if target == "/malformed":
            self.send(b"HTTP/1.1 200 OK\r\nX-Bad\r\nContent-Length: 0\r\n\r\n")
            return False
        if target == "/smuggle":
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc")
            return False
        if target == "/stall":
            time.sleep(30)
            return False
        if target in ("/big-chunked", "/big-close"):
            # 2 MiB in 1 MiB chunks, or until the close: BIG below.
            if target == "/big-chunked":
                self.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for i in (0, 1):
                    self.send(b"%x\r\n%s\r\n" % (len(BIG) // 2, BIG[i * len(BIG) // 2:][:len(BIG) // 2]))
                self.send(b"0\r\n\r\n")
                return True
            self.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BIG)
            return False
        if target == "/overlong":
            # More than the Content-Length says: the connection cannot
            # carry the next request, and a client must not reuse it.
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + BIG[:300000] +
                      b"GARBAGE AFTER THE BODY\r\n")
            return True
        if target == "/close-after":
            # Says nothing about closing, then closes: the client must
            # reconnect for the next request.
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye")
            return False
        self.send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n")
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls:
            # The handshake runs in the connection's thread, on first use.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


srv = Server(("127.0.0.1", 0), Handler)
if sys.argv[1:2] == ["--tls"]:
    srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.tls.load_cert_chain(sys.argv[2], sys.argv[3])
print("peer: listening on 127.0.0.1:%d" % srv.server_address[1], file=sys.stderr, flush=True)
srv.serve_forever()
