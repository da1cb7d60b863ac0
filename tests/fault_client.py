#!/usr/bin/env python3
"""A client that measures what forward's faults do, for tests/forward_faults.bats.

usage: fault_client.py MODE HOST PORT [ARG]
  rtt N        N round trips of a 10-byte line through an echo target:
               prints each in ms ("rtt 200.4 201.0 ...")
  rate BYTES   sends BYTES to an echo target while reading them back:
               prints "rate B/s BYTES MS" once all came back
  read SEND [WAIT]  sends SEND ("" for nothing), then reads until the
               end: prints "eof N", "reset N" (ECONNRESET) or, after WAIT
               seconds (default 5), "timeout N"; N = bytes received
  script       commands on stdin, one a line: "send TEXT" sends TEXT and a
               newline; "expect TEXT WAIT" reads it back within WAIT
               seconds and prints "got TEXT", "none", "eof" or "reset"
               (then ends)
Every wait is bounded (30 s in all).
"""
import socket
import sys
import time

DEADLINE = time.monotonic() + 30


def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n, wait):
    data = b""
    end = min(DEADLINE, time.monotonic() + wait)
    while len(data) < n:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(n - len(data))
        except socket.timeout:
            break
        if not b:
            break
        data += b
    return data


def rtt(host, port, n):
    s = connect(host, port)
    out = []
    for _ in range(int(n)):
        t = time.monotonic()
        s.sendall(b"ping-pong\n")
        if recv_exact(s, 10, 10) != b"ping-pong\n":
            print("rtt lost")
            return 1
        out.append("%.1f" % ((time.monotonic() - t) * 1000))
    print("rtt " + " ".join(out))
    return 0


def rate(host, port, n):
    n = int(n)
    s = connect(host, port)
    s.setblocking(False)
    data = bytes(i % 251 for i in range(n))
    sent = got = 0
    back = bytearray()
    t = time.monotonic()
    import select
    while got < n and time.monotonic() < DEADLINE:
        w = [s] if sent < n else []
        r, w, _ = select.select([s], w, [], 1)
        if w:
            sent += s.send(data[sent:sent + 16384])
        if r:
            b = s.recv(65536)
            if not b:
                break
            back += b
            got += len(b)
    ms = (time.monotonic() - t) * 1000
    if bytes(back) != data:
        print("rate wrong data %d of %d" % (got, n))
        return 1
    print("rate %.0f %d %.0f" % (n / (ms / 1000), n, ms))
    return 0


def read(host, port, send, wait):
    got = 0
    try:
        # A refused client may be reset before connect() returns.
        s = connect(host, port)
        if send:
            s.sendall(send.encode())
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0:
                print("timeout %d" % got)
                return 0
            s.settimeout(left)
            b = s.recv(65536)
            if not b:
                print("eof %d" % got)
                return 0
            got += len(b)
    except socket.timeout:
        print("timeout %d" % got)
    except ConnectionResetError:
        print("reset %d" % got)
    return 0


def script(host, port):
    s = connect(host, port)
    for line in sys.stdin:
        cmd, _, rest = line.strip().partition(" ")
        try:
            if cmd == "send":
                s.sendall(rest.encode() + b"\n")
                continue
            text, _, wait = rest.rpartition(" ")
            want = text.encode() + b"\n"
            b = recv_exact(s, len(want), float(wait))
            if b == want:
                print("got " + text, flush=True)
            elif b:
                print("partial %r" % b, flush=True)
            else:
                s.settimeout(0.05)
                try:
                    print("eof" if s.recv(1) == b"" else "more", flush=True)
                except socket.timeout:
                    print("none", flush=True)
        except ConnectionResetError:
            print("reset", flush=True)
            return 0
    return 0


def main():
    mode, host, port = sys.argv[1:4]
    arg = sys.argv[4] if len(sys.argv) > 4 else ""
    if mode == "rtt":
        return rtt(host, port, arg or 3)
    if mode == "rate":
        return rate(host, port, arg)
    if mode == "read":
        wait = float(sys.argv[5]) if len(sys.argv) > 5 else 5
        return read(host, port, arg, wait)
    if mode == "script":
        return script(host, port)
    print("unknown mode " + mode)
    return 2


sys.exit(main())
