#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal and lets a test drive it over stdin/stdout.

argv: the command. stdin: one JSON request per line; stdout: one JSON reply per line.
  {"op": "send", "data": "ls\\r"}                      -> {"ok": true}
  {"op": "expect", "re": "ftp> $", "timeout": 20}       -> {"ok": true, "match": "..."} or
                                                         {"ok": false, "error": "...", "screen": "..."}
  {"op": "wait", "timeout": 20}                         -> {"ok": true, "code": 0}
  {"op": "transcript"}                                  -> {"ok": true, "text": "..."}  (raw, all output)
Matching runs on the output with terminal escape sequences removed, from where the last match ended.
The child is killed when stdin closes.
"""
import codecs
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r")

pid, fd = pty.fork()  # noqa: the child branch execs below
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])

decoder = codecs.getincrementaldecoder("utf-8")("replace")
raw = ""
screen = ""  # raw with escape sequences removed, built as output arrives
pending = ""  # a tail that may be the start of an escape sequence not complete yet
pos = 0
eof = False
exit_code = None


def pump(timeout):
    global raw, eof
    if eof:
        time.sleep(min(timeout, 0.05))
        return
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return
    try:
        data = os.read(fd, 65536)
    except OSError:
        data = b""
    if not data:
        eof = True
        return
    text = decoder.decode(data)
    raw += text
    add_screen(text)


def add_screen(text):
    global screen, pending
    s = pending + text
    cut = s.rfind("\x1b")
    if cut != -1 and len(s) - cut < 16:
        s, pending = s[:cut], s[cut:]
    else:
        pending = ""
    screen += ANSI.sub("", s)


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def reap(timeout):
    global exit_code
    deadline = time.time() + timeout
    while exit_code is None and time.time() < deadline:
        pump(0.05)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            exit_code = os.waitstatus_to_exitcode(status)
    return exit_code


for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    if op == "send":
        os.write(fd, req["data"].encode())
        reply({"ok": True})
    elif op == "expect":
        pattern = re.compile(req["re"], re.M)
        deadline = time.time() + req.get("timeout", 20)
        while True:
            m = pattern.search(screen, pos)
            if m:
                pos = m.end()
                reply({"ok": True, "match": m.group(0)})
                break
            if time.time() > deadline or (eof and exit_code is not None):
                reply({"ok": False, "error": "no match for " + req["re"], "screen": screen[pos:][-3000:]})
                break
            pump(0.05)
            if eof:
                reap(0.1)
    elif op == "wait":
        code = reap(req.get("timeout", 20))
        reply({"ok": code is not None, "code": code})
    elif op == "transcript":
        reply({"ok": True, "text": raw})

if exit_code is None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
