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
  /sleep/MS               answers after MS milliseconds
  /after/N                answers once N other requests have been answered
                          (or after 20 s)
  /flaky/KEY?fail=N&code=C&after=S
                          the first N requests for KEY answer C (default
                          503, with Retry-After: S when given), the next
                          ones the echo; /count/KEY says how many came
  /enc/CODING?n=N         N bytes of text sent with Content-Encoding CODING
                          (gzip, deflate, rawdeflate: deflate without the
                          zlib wrapper, br, fakegzip: said to be gzip but
                          not, or anything else: the text as it is); zeros=N: N zero bytes instead;
                          /plain?n=N the same text; cut=K: only the first
                          K bytes of the encoded body (Content-Length K)
  /resume/KEY?n=N&stall=M the text of /plain?n=N, honouring Range:
                          bytes=S- (206); the first request for KEY sends M
                          bytes of its part, then stalls 3 s and closes
"""
import hashlib
import http.server
import json
import sys
import ctypes
import ctypes.util
import threading
import time
import zlib
import urllib.parse



def text(n):
    line = b"".join(b"line %d of the text, compressible and not all alike\n" % i
                    for i in range(1 + n // 40))
    return line[:n]


def brotli(data):
    lib = ctypes.CDLL(ctypes.util.find_library("brotlienc") or "libbrotlienc.so.1")
    out = ctypes.create_string_buffer(len(data) + 1024)
    size = ctypes.c_size_t(len(out))
    if not lib.BrotliEncoderCompress(9, 22, 0, ctypes.c_size_t(len(data)), data,
                                     ctypes.byref(size), out):
        raise RuntimeError("brotli")
    return out.raw[:size.value]


def encode(coding, data):
    if coding == "gzip":
        z = zlib.compressobj(6, zlib.DEFLATED, 16 + 15)
    elif coding == "deflate":
        z = zlib.compressobj(6, zlib.DEFLATED, 15)
    elif coding == "rawdeflate":
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
    elif coding == "br":
        return brotli(data)
    else:
        return data
    return z.compress(data) + z.flush()


tries = {}
tries_lock = threading.Lock()
# Requests answered so far, for /after/N.
answered = 0
answered_cond = threading.Condition()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body go in two writes: without this each answer
    # would wait for the client's delayed ACK.
    disable_nagle_algorithm = True

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
        if u.path.startswith("/sleep/"):
            time.sleep(int(u.path.split("/")[2]) / 1000)
        if u.path.startswith("/after/"):
            with answered_cond:
                answered_cond.wait_for(lambda: answered >= int(u.path.split("/")[2]), 20)
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
        if len(parts) == 3 and parts[1] == "resume":
            with tries_lock:
                tries[parts[2]] = tries.get(parts[2], 0) + 1
                first = tries[parts[2]] == 1
            data = text(int(q.get("n", ["1000"])[0]))
            start = 0
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
            part = data[start:]
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            if first:
                self.wfile.write(part[:int(q.get("stall", ["10"])[0])])
                self.wfile.flush()
                time.sleep(3)
                self.close_connection = True
                return
            self.wfile.write(part)
            return
        enc = None
        if parts[1:2] == ["enc"] or u.path == "/plain":
            data = text(int(q.get("n", ["1000"])[0]))
            if "zeros" in q:
                data = bytes(int(q["zeros"][0]))
            enc = parts[2] if parts[1] == "enc" else None
            out = encode(enc, data) if enc else data
            if "cut" in q:
                out = out[:int(q["cut"][0])]
            if enc == "rawdeflate":
                enc = "deflate"
            if enc == "fakegzip":
                enc = "gzip"
        self.send_response(code)
        if enc:
            self.send_header("Content-Encoding", enc)
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
            global answered
            with answered_cond:
                answered += 1
                answered_cond.notify_all()
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Room for many connections at once (-Z): the default 5 drops SYNs.
    request_queue_size = 128


srv = Server(("127.0.0.1", 0), Handler)
print("peer: listening on 127.0.0.1:%d" % srv.server_address[1], file=sys.stderr, flush=True)
srv.serve_forever()
