#!/usr/bin/env python3
"""An HTTP/1.1 peer for tests/http_get_curl.bats that answers every
request with what it received, as JSON: method, target, headers (in
order, as sent), the body's length and SHA-256, and the body itself
(bytes as code points 0-255). Request bodies may have a Content-Length or be chunked.
Listens on 127.0.0.1 port 0 and prints the readiness line sockctl's
helpers read.

Paths that do something else:
  /redirect/CODE?to=PATH  answers CODE with Location: PATH
  /status/CODE            answers CODE with the echo as its body
  /sink                   reads the body without keeping it (uploads)
  /flaky/KEY?fail=N&code=C&after=S
                          the first N requests for KEY answer C (default
                          503, with Retry-After: S when given), the next
                          ones the echo; /count/KEY says how many came
"""
import hashlib
import http.server
import json
import sys
import threading
import urllib.parse

tries = {}
tries_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self, keep):
        h = hashlib.sha256()
        kept, n = [], 0

        def take(data):
            nonlocal n
            h.update(data)
            n += len(data)
            if keep:
                kept.append(data)

        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    d = self.rfile.read(min(left, 1 << 20))
                    take(d)
                    left -= len(d)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                d = self.rfile.read(min(left, 1 << 20))
                if not d:
                    break
                take(d)
                left -= len(d)
        return b"".join(kept), n, h.hexdigest()

    def answer(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        body, n, digest = self.read_body(keep=u.path != "/sink")
        echo = {
            "method": self.command,
            "target": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": n,
            "body_sha256": digest,
        }
        # Bytes as code points 0-255: binary bodies compare too.
        echo["body"] = body.decode("latin-1")
        out = (json.dumps(echo) + "\n").encode()
        code = 200
        parts = u.path.split("/")
        if len(parts) == 3 and parts[1] in ("redirect", "status"):
            code = int(parts[2])
        after = None
        if len(parts) == 3 and parts[1] in ("flaky", "count"):
            with tries_lock:
                if parts[1] == "flaky":
                    tries[parts[2]] = tries.get(parts[2], 0) + 1
                n = tries.get(parts[2], 0)
            if parts[1] == "count":
                out = b"%d\n" % n
            elif n <= int(q.get("fail", ["2"])[0]):
                code = int(q.get("code", ["503"])[0])
                after = q.get("after", [None])[0]
                out = b"failing\n"
        self.send_response(code)
        if after is not None:
            self.send_header("Retry-After", after)
        if parts[1:2] == ["redirect"]:
            self.send_header("Location", q.get("to", ["/"])[0])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = answer

    def handle_one_request(self):
        # Any method: BaseHTTPRequestHandler looks for do_METHOD.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.answer()
            self.wfile.flush()
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print("peer: listening on 127.0.0.1:%d" % srv.server_address[1], file=sys.stderr, flush=True)
srv.serve_forever()
