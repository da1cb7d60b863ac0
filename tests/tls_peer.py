#!/usr/bin/env python3
"""TLS peers for tests/tls.bats, one connection each, on 127.0.0.1 port 0.

  tls_peer.py strict CERT KEY    reads until the client's close_notify (a
      TCP close without one is an error: "truncated" on stderr, exit 1, no
      reply), then replies "got N bytes: DATA", sends close_notify, closes
  tls_peer.py truncate CERT KEY TEXT   sends TEXT, then closes the TCP
      connection without close_notify

The readiness line on stderr is sockctl's: "listening on 127.0.0.1:PORT".
"""
import socket
import ssl
import sys


def main():
    mode, cert, key = sys.argv[1:4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    # A TCP close without close_notify must be an error, not the end.
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print("listening on 127.0.0.1:%d (tls)" % ls.getsockname()[1], file=sys.stderr, flush=True)
    raw, _ = ls.accept()
    raw.settimeout(20)
    s = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
    if mode == "truncate":
        s.sendall(sys.argv[4].encode())
        # The TCP FIN without close_notify (shutdown drops the TLS
        # state first); then what the client sends is read to its end,
        # so the close is no reset that could discard our data.
        s.shutdown(socket.SHUT_WR)
        while raw.recv(65536):
            pass
        raw.close()
        return 0
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (ssl.SSLEOFError, ssl.SSLError) as e:
        print("truncated: the client closed without close_notify (%s)" % e, file=sys.stderr)
        return 1
    s.sendall(b"got %d bytes: " % len(data) + data)
    s.unwrap()
    raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
