#!/usr/bin/env python3
"""PostgreSQL log reading for bench/run.sh and bench/loadbench.py (standard library only): the
records of a PostgreSQL log (log_line_prefix must name the database with %d, as user@database),
the parameters logged with an executed statement, those parameters as typed SQL constants, and a
bounded wait for a server to answer /readyz.

    pglog.py ready --port P [--pid PID] [--timeout SECS]
        waits until the server on 127.0.0.1:P answers GET /readyz with 200; gives up when the
        process PID has exited or after SECS seconds (exit status 1).

Everything talks to 127.0.0.1 only and every wait is bounded.
"""

import argparse
import http.client
import os
import re
import sys
import time

# One record of PostgreSQL's log: the prefix (log_line_prefix), the level, the message.
RECORD = re.compile(r"^(?P<prefix>.*?)\b(?P<level>LOG|DETAIL|STATEMENT|ERROR|WARNING|HINT|CONTEXT|NOTICE|FATAL):  (?P<text>.*)$")
# The session's process id in the prefix (%p, as [1234]).
PID = re.compile(r"\[(\d+)\]")
# One parameter of a `DETAIL:  parameters: $1 = '...', $2 = NULL` record.
PARAM = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")


def records(raw, db):
    """The records of `raw` (text read from the log) written by sessions of `db`, in order, as
    (pid, level, text): a line that starts no record continues the text of the one before (a
    multi-line statement)."""
    out = []
    for line in raw.split("\n"):
        m = RECORD.match(line)
        if m:
            pid = PID.search(m.group("prefix"))
            out.append([pid.group(1) if pid else "", m.group("level"), m.group("text"), m.group("prefix")])
        elif out:
            out[-1][2] += "\n" + line
    # log_line_prefix names the session as user@database (%u@%d)
    return [(pid, level, text) for pid, level, text, prefix in out if f"@{db} " in prefix + " "]


def params(text):
    """{n: literal} of a `parameters: $1 = '...', ...` DETAIL text; a literal keeps its quotes
    (or is NULL)."""
    return {int(k): v for k, v in PARAM.findall(text)}


def typed(literal):
    """A logged parameter as a typed SQL constant. diesel binds dates, timestamps, BIGINTs and
    text here; the log shows only the value, so its type is read from its shape."""
    if literal == "NULL":
        return "NULL"
    v = literal[1:-1]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return f"CAST({literal} AS date)"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?", v):
        return f"CAST({literal} AS timestamp)"
    if re.fullmatch(r"-?\d+", v):
        return f"CAST({literal} AS bigint)"
    return f"CAST({literal} AS text)"


def ready(port, timeout=60, pid=0):
    """Waits until the server on 127.0.0.1:`port` answers GET /readyz with 200; exits with an
    error when process `pid` (if given) has exited or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid:
            try:
                os.kill(pid, 0)
            except OSError:
                sys.exit(f"server (pid {pid}) exited before it was ready")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"server on port {port} not ready after {timeout} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ready", help="wait until the server answers /readyz")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--pid", type=int, default=0, help="give up early when this process has exited")
    args = ap.parse_args()
    if args.cmd == "ready":
        ready(args.port, args.timeout, args.pid)


if __name__ == "__main__":
    main()
