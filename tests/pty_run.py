#!/usr/bin/env python3
"""Runs a command with its stderr (and stdin) on a new terminal, stdout to
FILE (or the terminal too with '-'), and prints what the terminal got as
a Python bytes literal; exits with the command's status.

  pty_run.py FILE|- COMMAND [ARG...]
"""
import os
import pty
import sys

pid, fd = pty.fork()
if pid == 0:
    if sys.argv[1] != "-":
        out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.close(out)
    os.execvp(sys.argv[2], sys.argv[2:])
data = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:  # EIO: the terminal's last holder has gone
        break
    if not d:
        break
    data += d
_, st = os.waitpid(pid, 0)
print(repr(data))
sys.exit(os.waitstatus_to_exitcode(st))
