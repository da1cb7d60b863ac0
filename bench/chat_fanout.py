#!/usr/bin/env python3
"""Chat fan-out driver: N receivers and one sender in one room; the sender
sends LINES lines at once and every receiver should get all of them.
Optionally one more client joins and never reads. Prints one line:
  delivered=D expected=E seconds=S rate=R complete=yes|no
Works against any server that relays a line to everyone else (sockctl chat
serve, ncat --chat)."""
import selectors
import socket
import sys
import threading
import time

host, port = sys.argv[1], int(sys.argv[2])
nrecv, nlines = int(sys.argv[3]), int(sys.argv[4])
stalled = sys.argv[5] == "1"
limit = float(sys.argv[6]) if len(sys.argv) > 6 else 20.0


def connect(rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, port))
    return s


recv = [connect() for _ in range(nrecv)]
sender = connect()
stuck = connect(4096) if stalled else None
for s in recv + [sender]:
    s.setblocking(False)
sel = selectors.DefaultSelector()
for i, s in enumerate(recv):
    sel.register(s, selectors.EVENT_READ, i)
sel.register(sender, selectors.EVENT_READ, -1)


def pump(until, deadline):
    """Reads everything; until(i, data) is called per receiver chunk and
    returns True when the phase is over."""
    while time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            try:
                data = key.fileobj.recv(1 << 16)
            except BlockingIOError:
                continue
            if key.data >= 0 and data and until(key.data, data):
                return True
    return False


# Phase 1: every receiver has seen a sync line (all joined, all relayed).
seen = set()
carry = [b""] * nrecv
sender.setblocking(True)
sender.sendall(b"SYNC-SYNC\n")
sender.setblocking(False)


def synced(i, data):
    buf = carry[i] + data
    if b"SYNC-SYNC" in buf:
        seen.add(i)
    carry[i] = buf[-16:]
    return len(seen) == nrecv


if not pump(synced, time.monotonic() + limit):
    print("sync failed: %d of %d receivers" % (len(seen), nrecv), file=sys.stderr)
    sys.exit(1)

# Let join notices and the like settle (sockctl announces a guest half a
# second after it connects), so that only the burst is measured.
pump(lambda i, data: False, time.monotonic() + 1.0)

# Phase 2: the burst, sent from a thread so a server that pushes back does
# not block the readers.
payload = b"".join(b"msg %06d some ordinary chat text here\n" % i for i in range(nlines))
count = [0] * nrecv
carry = [b""] * nrecv
done = [0]


def burst():
    s = sender.dup()
    s.setblocking(True)
    s.sendall(payload)


def counted(i, data):
    buf = carry[i] + data
    # Count whole markers; keep a tail that may hold a split one.
    count[i] += buf.count(b"msg ")
    carry[i] = buf[-3:]  # too short to hold a whole marker
    if count[i] == nlines:
        done[0] += 1
    return done[0] == nrecv


t0 = time.monotonic()
threading.Thread(target=burst, daemon=True).start()
complete = pump(counted, t0 + limit)
elapsed = time.monotonic() - t0
delivered = sum(count)
print("delivered=%d expected=%d seconds=%.3f rate=%.0f complete=%s"
      % (delivered, nrecv * nlines, elapsed, delivered / elapsed, "yes" if complete else "no"))
