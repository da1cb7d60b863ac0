#!/usr/bin/env python3
"""A scriptable UDP / Unix datagram peer for the udp-send tests.

usage: udp_peer.py MODE [--unix PATH] [--six] [--group ADDR] [--port N]
MODE: echo (send each datagram back), log (print each datagram as
"LEN SENDER HEX" on stdout, no reply), big:N (answer each datagram with
N bytes). Prints "udp_peer: listening on ADDR:PORT (udp)" on stderr when
ready, like sockctl's readiness line."""
import os
import socket
import struct
import sys

mode, args = sys.argv[1], sys.argv[2:]
opt = {}
while args:
    k = args.pop(0)
    opt[k] = True if k == "--six" else args.pop(0)

if "--unix" in opt:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(opt["--unix"])
    where = opt["--unix"]
elif "--group" in opt:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 0))
    mreq = struct.pack("4s4s", socket.inet_aton(opt["--group"]), socket.inet_aton("127.0.0.1"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    where = "%s:%d" % (opt["--group"], s.getsockname()[1])
elif "--six" in opt:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", int(opt.get("--port", 0))))
    where = "[::1]:%d" % s.getsockname()[1]
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((opt.get("--bind", "127.0.0.1"), int(opt.get("--port", 0))))
    where = "%s:%d" % s.getsockname()[:2]
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
sys.stderr.write("udp_peer: listening on %s (udp)\n" % where)
sys.stderr.flush()

while True:
    data, peer = s.recvfrom(1 << 17)
    if mode == "echo":
        s.sendto(data, peer)
    elif mode == "log":
        name = peer if isinstance(peer, str) else "%s:%d" % peer[:2]
        sys.stdout.write("%d %s %s\n" % (len(data), name or "-", data.hex() or "-"))
        sys.stdout.flush()
    elif mode.startswith("big:"):
        s.sendto(b"x" * int(mode[4:]), peer)
