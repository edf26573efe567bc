#!/usr/bin/env python3
"""Writes and inspects netdsl journals (format 2, runtime/linux/journal.h) for the e2e tests.

  journal_tool.py identity                      the calling namespace: DEV INO COOKIE
  journal_tool.py write OUT --host H --netns DEV:INO --cookie C --boot B [--step LABEL OP...]...
                                                a journal whose steps undo with OP (journal encoding)
  journal_tool.py records PATH                  one line per record: OFFSET LENGTH KIND
"""
import os
import socket
import sys


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def frame(payload: str) -> bytes:
    data = payload.encode()
    return b"R %d %08x\n" % (len(data), crc32c(data)) + data + b"\n"


def identity():
    st = os.stat("/proc/thread-self/ns/net")
    cookie = 0
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        cookie = int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little")
    except OSError:
        pass
    print(st.st_dev, st.st_ino, cookie)


def write(args):
    out = args[0]
    opts = {"--host": "h", "--netns": "0:0", "--cookie": "0", "--boot": "", "--pid": "1"}
    steps = []
    i = 1
    while i < len(args):
        if args[i] == "--step":
            steps.append([args[i + 1], []])
            i += 2
            while i < len(args) and not args[i].startswith("--"):
                steps[-1][1].append(args[i])
                i += 1
        else:
            opts[args[i]] = args[i + 1]
            i += 2
    text = b"netdsl-journal 2\n" + frame(
        "begin host=%s netns=%s cookie=%s boot=%s pid=%s started=2026-01-01T00:00:00Z"
        % (opts["--host"], opts["--netns"], opts["--cookie"], opts["--boot"], opts["--pid"]))
    for n, (label, ops) in enumerate(steps, 1):
        text += frame("\n".join(["step %d %s" % (n, label)] + ["undo " + op for op in ops]))
    with open(out, "wb") as f:
        f.write(text)
    os.chmod(out, 0o600)


def records(path):
    data = open(path, "rb").read()
    pos = data.index(b"\n") + 1
    while pos < len(data):
        eol = data.find(b"\n", pos)
        if eol < 0:
            print(pos, len(data) - pos, "torn-header")
            return
        _, length, _ = data[pos:eol].split(b" ")
        length = int(length)
        kind = data[eol + 1:eol + 1 + length].split(b" ", 1)[0].decode(errors="replace")
        print(pos, eol + 1 + length + 1 - pos, kind)
        pos = eol + 1 + length + 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "identity":
        identity()
    elif cmd == "write":
        write(sys.argv[2:])
    elif cmd == "records":
        records(sys.argv[2])
    else:
        sys.exit(__doc__)
