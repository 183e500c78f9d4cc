#!/usr/bin/env python3
"""Helper of bench/statements.sh (standard library only): sends each hot request of a department
at a time against a server whose database logs every statement, and counts from PostgreSQL's
log what each request sent: statements, how many ran prepared (`execute __diesel_stmt_N`) and
how many were parsed and planned for that call alone (`execute <unnamed>`), and the simple
queries (`statement:`: BEGIN, COMMIT, the pool's check).

    statements.py --port P --db DB --log FILE --password PW [--rounds 3] [--out FILE.md]

Every request is sent ROUNDS times, one after another, on a pool of one connection: the first
round is cold (the connection prepares what it will keep), the last is what every later request
costs. Talks to 127.0.0.1 only; every wait is bounded.
"""

import argparse
import http.client
import json
import os
import re
import sys
import time

SETTLE = 0.3  # seconds for PostgreSQL's log to take the last lines of a request


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def request(port, method, path, token=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return r.status, parsed, raw


def ok(status, want, raw, what):
    if status != want:
        raise SystemExit(f"{what}: HTTP {status}, wanted {want}: {raw[:300]!r}")


def login(port, username, password):
    s, b, raw = request(port, "POST", "/api/v1/auth/login", body={"username": username, "password": password})
    ok(s, 200, raw, f"login {username}")
    return b["access_token"]


ENTRY = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S*)@(\S*) (LOG|DETAIL|ERROR|STATEMENT|WARNING):\s+(.*)$")
KIND = re.compile(r"duration: [0-9.]+ ms\s+(parse|bind|execute) ([^:]+):|duration: [0-9.]+ ms\s+statement: (.*)")


def read_log(path, start, db):
    """The log entries of database `db` written after byte `start`: (kind, name, text)."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        m = ENTRY.match(line)
        if not m or m.group(3) != db or m.group(4) != "LOG":
            continue
        k = KIND.search(m.group(5))
        if not k:
            continue
        if k.group(1):
            out.append((k.group(1), k.group(2).strip(), m.group(5)))
        else:
            out.append(("simple", "", k.group(3).strip()))
    return out


def count(entries):
    executes = [e for e in entries if e[0] == "execute"]
    prepared = [e for e in executes if e[1] != "<unnamed>"]
    simple = [e for e in entries if e[0] == "simple"]
    parses = [e for e in entries if e[0] == "parse"]
    return {
        "statements": len(executes) + len(simple),
        "prepared": len(prepared),
        "unnamed": len(executes) - len(prepared),
        "simple": len(simple),
        "parsed": len(parses),
        "simple_text": [e[2] for e in simple],
        "unnamed_text": [re.sub(r"^.*execute <unnamed>:\s*", "", e[2])[:160] for e in executes if e[1] == "<unnamed>"],
        "all_text": [re.sub(r"^.*?(execute [^:]+|statement):\s*", "", e[2])[:200] for e in entries if e[0] in ("execute", "simple")],
    }


def measured(args, label, fn):
    """Runs fn() (one HTTP request) and returns the counts of what it sent."""
    time.sleep(SETTLE)
    start = os.path.getsize(args.log)
    fn()
    time.sleep(SETTLE)
    c = count(read_log(args.log, start, args.db))
    c["label"] = label
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    admin = login(args.port, "bench-admin", args.password)
    s, b, raw = request(args.port, "GET", "/api/v1/units?q=%E9%87%8D%E5%BA%86%E5%B8%82%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83%E5%B1%80", admin)
    ok(s, 200, raw, "find the unit")
    unit = b["items"][0]["id"]
    manager_password = "statements bench manager 1"
    s, b, raw = request(args.port, "POST", "/api/v1/users", admin, {
        "username": "bench-manager", "display_name": "bench manager", "role": "unit_manager",
        "unit_id": unit, "password": manager_password})
    ok(s, 201, raw, "create the unit manager")
    manager = login(args.port, "bench-manager", manager_password)
    s, b, raw = request(args.port, "GET", f"/api/v1/assignments?unit_id={unit}&limit=50", manager)
    ok(s, 200, raw, "list the unit's assignments")
    assignment = b["items"][0]["id"]

    rounds = []
    for i in range(args.rounds):
        period = str(2030 + i)
        made = {}

        def create():
            s, b, raw = request(args.port, "POST", f"/api/v1/assignments/{assignment}/reports", manager,
                                {"period": period, "status": "in_progress", "narrative": "按计划推进。"})
            ok(s, 201, raw, "create a report")
            made["id"] = b["id"]

        def submit():
            s, _, raw = request(args.port, "POST", f"/api/v1/reports/{made['id']}/submit", manager)
            ok(s, 200, raw, "submit the report")

        def read():
            s, _, raw = request(args.port, "GET", f"/api/v1/reports/{made['id']}", manager)
            ok(s, 200, raw, "read the report")

        def assignments():
            s, _, raw = request(args.port, "GET", f"/api/v1/assignments?unit_id={unit}&limit=50", manager)
            ok(s, 200, raw, "list the unit's assignments")

        def me():
            s, _, raw = request(args.port, "GET", "/api/v1/me", manager)
            ok(s, 200, raw, "GET /me")

        rounds.append([
            measured(args, "POST /assignments/{id}/reports (create a draft)", create),
            measured(args, "POST /reports/{id}/submit", submit),
            measured(args, "GET /reports/{id}", read),
            measured(args, "GET /assignments?unit_id=… (50 rows)", assignments),
            measured(args, "GET /me", me),
        ])

    first, last = rounds[0], rounds[-1]
    lines = [
        f"| request | statements | prepared (cached) | unnamed (planned per call) | simple (BEGIN, COMMIT, SELECT 1 …) | first call: statements / parsed |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for a, z in zip(first, last):
        lines.append(f"| {z['label']} | {z['statements']} | {z['prepared']} | {z['unnamed']} | {z['simple']} | {a['statements']} / {a['parsed']} |")
    table = "\n".join(lines)
    print(table)
    detail = []
    for z in last:
        detail.append(f"\n{z['label']} (round {args.rounds}):")
        for t in z["all_text"]:
            detail.append(f"  {t}")
    if args.verbose:
        print("\n".join(detail))
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
            f.write("\n```\n" + "\n".join(detail).strip() + "\n```\n")


if __name__ == "__main__":
    main()
