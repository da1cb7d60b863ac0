#!/usr/bin/env python3
"""Load helpers for the bats tests: many clients at once, checked replies.

usage: clients.py MODE COUNT HOST PORT
  seq    COUNT sequential TCP clients, each sends a line and expects it echoed
  conc   COUNT concurrent TCP clients, the same, all connected before any sends
  udp    COUNT UDP senders, each expects its own datagram echoed back
  hold   COUNT TCP connections opened and held until stdin closes
  reset  one TCP client that sends, then resets the connection (RST)
Prints "ok N" and exits 0 when every reply matched, else a reason and 1.
"""
import os
import select
import socket
import struct
import sys
import time

DEADLINE = time.monotonic() + 30


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        s.settimeout(max(0.1, DEADLINE - time.monotonic()))
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def seq(count, host, port):
    for i in range(count):
        s = socket.socket(fam(host), socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((host, port))
        msg = b"client %d\n" % i
        s.sendall(msg)
        got = recv_exact(s, len(msg))
        s.close()
        if got != msg.upper() and got != msg:
            print("client %d got %r" % (i, got))
            return 1
    print("ok %d" % count)
    return 0


def conc(count, host, port):
    socks = []
    for i in range(count):
        s = socket.socket(fam(host), socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((host, port))
        socks.append(s)
    for i, s in enumerate(socks):
        s.sendall(b"concurrent %d\n" % i)
    for i, s in enumerate(socks):
        msg = b"concurrent %d\n" % i
        got = recv_exact(s, len(msg))
        if got != msg and got != msg.upper():
            print("client %d got %r" % (i, got))
            return 1
    for s in socks:
        s.close()
    print("ok %d" % count)
    return 0


def udp(count, host, port):
    socks = [socket.socket(fam(host), socket.SOCK_DGRAM) for _ in range(count)]
    for i, s in enumerate(socks):
        s.sendto(b"sender %d" % i, (host, port))
    for i, s in enumerate(socks):
        s.settimeout(5)
        data, _ = s.recvfrom(65536)
        if data.lower() != b"sender %d" % i:
            print("sender %d got %r" % (i, data))
            return 1
    print("ok %d" % count)
    return 0


def hold(count, host, port):
    socks = []
    for i in range(count):
        s = socket.socket(fam(host), socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect((host, port))
        except OSError as e:
            print("connect %d: %s" % (i, e))
            return 1
        socks.append(s)
    print("held %d" % count, flush=True)
    sys.stdin.read()
    return 0


def reset(host, port):
    s = socket.socket(fam(host), socket.SOCK_STREAM)
    s.connect((host, port))
    s.sendall(b"about to reset\n")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("ok reset")
    return 0


def main():
    mode, count, host, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    if mode == "seq":
        return seq(count, host, port)
    if mode == "conc":
        return conc(count, host, port)
    if mode == "udp":
        return udp(count, host, port)
    if mode == "hold":
        return hold(count, host, port)
    if mode == "reset":
        return reset(host, port)
    print("unknown mode " + mode)
    return 2


sys.exit(main())
