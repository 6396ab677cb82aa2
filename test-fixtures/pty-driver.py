#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal and lets a test drive it over stdin/stdout.

argv: the command. stdin: one JSON request per line; stdout: one JSON reply per line.
  {"op": "send", "data": "ls\\r"}                      -> {"ok": true}
  {"op": "expect", "re": "ftp> $", "timeout": 20}       -> {"ok": true, "match": "..."} or
                                                         {"ok": false, "error": "...", "screen": "..."}
  {"op": "wait", "timeout": 20}                         -> {"ok": true, "code": 0}
  {"op": "transcript"}                                  -> {"ok": true, "text": "..."}  (raw, all output)
  {"op": "screen"}                                      -> {"ok": true, "lines": [...], "rows": [...]}
Matching runs on the output with terminal escape sequences removed, from where the last match ended.
"screen" is what a terminal of that size shows (with its scrollback): the output run through a small
terminal emulator (cursor moves, erases, line wrap and DECAWM), as `rows` and as `lines`, where rows
the terminal wrapped are joined again. The child is killed when stdin closes.
The terminal is FERRY_PTY_COLUMNS x FERRY_PTY_ROWS (default 140 x 40).
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

COLS = int(os.environ.get("FERRY_PTY_COLUMNS", "140"))
ROWS = int(os.environ.get("FERRY_PTY_ROWS", "40"))

pid, fd = pty.fork()  # noqa: the child branch execs below
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])


class Terminal:
    """Just enough of a VT100/xterm to see what a person sees: rows of `cols` cells with scrollback."""

    def __init__(self, cols, rows):
        self.cols, self.rows = cols, rows
        self.lines = [[]]
        self.wrapped = [False]
        self.row = self.col = 0
        self.autowrap = True
        self.pending_wrap = False
        self.saved = (0, 0)
        self.esc = ""

    def top(self):
        return max(0, len(self.lines) - self.rows)

    def ensure(self, row):
        while len(self.lines) <= row:
            self.lines.append([])
            self.wrapped.append(False)

    def put(self, ch):
        if self.pending_wrap and self.autowrap:
            self.wrapped[self.row] = True
            self.row += 1
            self.col = 0
            self.ensure(self.row)
        self.pending_wrap = False
        line = self.lines[self.row]
        while len(line) <= self.col:
            line.append(" ")
        line[self.col] = ch
        if self.col == self.cols - 1:
            self.pending_wrap = True  # the next character wraps, or overwrites this cell without DECAWM
        else:
            self.col += 1

    def erase_line(self, mode):
        line = self.lines[self.row]
        if mode == 0:
            del line[self.col:]
            self.wrapped[self.row] = False
        elif mode == 1:
            for i in range(min(self.col + 1, len(line))):
                line[i] = " "
        else:
            line.clear()
            self.wrapped[self.row] = False

    def csi(self, params, final):
        private = params.startswith("?")
        nums = [int(p) if p.isdigit() else 0 for p in params.lstrip("?").split(";")] if params.lstrip("?") else []
        n = nums[0] if nums and nums[0] > 0 else 1
        self.pending_wrap = False
        if private:
            if final in "hl" and 7 in nums:
                self.autowrap = final == "h"
            return
        if final == "A":
            self.row = max(self.top(), self.row - n)
        elif final == "B":
            self.row += n
            self.ensure(self.row)
        elif final == "C":
            self.col = min(self.cols - 1, self.col + n)
        elif final == "D":
            self.col = max(0, self.col - n)
        elif final == "G":
            self.col = min(self.cols - 1, n - 1)
        elif final in "Hf":
            r = nums[0] if len(nums) > 0 and nums[0] > 0 else 1
            c = nums[1] if len(nums) > 1 and nums[1] > 0 else 1
            self.row = self.top() + r - 1
            self.col = min(self.cols - 1, c - 1)
            self.ensure(self.row)
        elif final == "K":
            self.erase_line(nums[0] if nums else 0)
        elif final == "J":
            mode = nums[0] if nums else 0
            if mode == 0:
                self.erase_line(0)
                del self.lines[self.row + 1:]
                del self.wrapped[self.row + 1:]
            elif mode == 2:
                for r in range(self.top(), len(self.lines)):
                    self.lines[r] = []
                    self.wrapped[r] = False
        elif final == "s":
            self.saved = (self.row, self.col)
        elif final == "u":
            self.row, self.col = self.saved

    def feed(self, text):
        for ch in text:
            if self.esc:
                self.esc += ch
                if self.esc == "\x1b[" or (self.esc.startswith("\x1b[") and not ("@" <= ch <= "~")):
                    continue
                if self.esc.startswith("\x1b["):
                    self.csi(self.esc[2:-1], ch)
                elif self.esc in ("\x1b(", "\x1b)"):
                    continue  # a charset designation: one more character
                elif self.esc == "\x1b7":
                    self.saved = (self.row, self.col)
                elif self.esc == "\x1b8":
                    self.row, self.col = self.saved
                self.esc = ""
                continue
            if ch == "\x1b":
                self.esc = ch
            elif ch == "\r":
                self.col = 0
                self.pending_wrap = False
            elif ch == "\n":
                self.row += 1
                self.pending_wrap = False
                self.ensure(self.row)
            elif ch == "\b":
                self.col = max(0, self.col - 1)
                self.pending_wrap = False
            elif ch == "\t":
                self.col = min(self.cols - 1, (self.col // 8 + 1) * 8)
            elif ch == "\x07" or ord(ch) < 32:
                continue
            else:
                self.put(ch)

    def snapshot(self):
        rows = ["".join(line).rstrip() for line in self.lines]
        lines, current = [], ""
        for i, text in enumerate(rows):
            current += text.ljust(self.cols) if self.wrapped[i] else text
            if not self.wrapped[i]:
                lines.append(current.rstrip())
                current = ""
        if current:
            lines.append(current.rstrip())
        return rows, lines


term = Terminal(COLS, ROWS)

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
    term.feed(text)


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
    elif op == "screen":
        pump(0.05)
        rows, lines = term.snapshot()
        reply({"ok": True, "rows": rows, "lines": lines})

if exit_code is None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
