#!/usr/bin/env python3
"""A UDP client for forward -u's fault tests.

usage: udp_fault_client.py PORT count N [MAX]
                                          send N numbered datagrams 2 ms
                                          apart, then print the numbers of
                                          the replies seen within 2 s (or
                                          0.2 s after MAX are seen)
       udp_fault_client.py PORT rtt N     N round trips one after another;
                                          print "rtt MS MS ..." (a lost one
                                          is "lost")
"""
import socket
import sys
import time

port, mode, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
most = int(sys.argv[4]) if len(sys.argv) > 4 else None
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", port))
if mode == "count":
    for i in range(n):
        s.send(b"%d\n" % i)
        time.sleep(0.002)
    seen = []
    s.settimeout(2)
    try:
        while most is None or len(seen) < most:
            seen.append(int(s.recv(100)))
        # All expected are back: a short while more shows any extra.
        s.settimeout(0.2)
        while True:
            seen.append(int(s.recv(100)))
    except socket.timeout:
        pass
    print(" ".join(str(x) for x in seen))
else:
    out = []
    s.settimeout(3)
    for i in range(n):
        t0 = time.monotonic()
        s.send(b"%d\n" % i)
        try:
            s.recv(100)
            out.append("%d" % ((time.monotonic() - t0) * 1000))
        except socket.timeout:
            out.append("lost")
    print("rtt " + " ".join(out))
