#!/usr/bin/env python3
"""Webhook delivery latency: from the commit of a change to the receipt of its signed delivery.

For each backend (SQLite, then PostgreSQL) it starts the release binary with the webhook worker
on (`DUBAN_DEMO=false`, reminders off, a fresh database in a temporary folder or a fresh
PostgreSQL database `duban_whbench`), sets up over the API what an urge needs (a unit, a plan
with one measure assigned to it, published; a coordinator), and subscribes the office
(`covers: all`, events `urge.issued`) to a receiver on 127.0.0.1. The receiver runs in its own
process (`http.server`, HTTP/1.1 keep-alive, a thread per connection): it reads each delivery,
notes the time of receipt (CLOCK_MONOTONIC, which every process on the machine shares), checks
`Duban-Signature` (`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the secret the
subscription returned) and answers 200.

Then, each change being one `POST /api/v1/urges` by the coordinator (one `urge.issued` event):
  - steady: --n urges at --rate per second from one client, one at a time;
  - burst:  --burst urges as fast as --burst-clients clients can send them.
Latency of one event = receipt − the moment the API call that caused it returned (the change
was committed before the answer was sent); `occurred_at` (the use case's clock, taken before
the commit) against the wall clock at receipt is recorded too. Every event must arrive once and
only once (counted by event id, matched to the urges issued by `data.urge_id`), with a valid
signature; the delivery rows in the database are read back (attempts per delivery).

Baseline, in the same run: the floor of what a delivery costs — the same receiver timing a plain
signed POST of a body of the same size from this script (send → receipt), --n times one at a
time. Figures are given as ratios to the floor's p50. On PostgreSQL also the cross-instance path:
two servers on one database, one taking the API writes with `DUBAN_WEBHOOK_WORKER=false`, the
other delivering (its worker is not woken by the first's writes, so it finds them by polling
every `DUBAN_WEBHOOK_POLL_MS`, default 1000).

Writes --out (JSON) and --md (a Markdown section), and puts that section into bench/RESULTS.md
between the markers `<!-- webhooks -->` and `<!-- /webhooks -->` (bench/report.py keeps it).

Usage: cargo build --release && python3 bench/webhooks.py [--n 1000] [--rate 50] [--burst 2000]
       [--backends sqlite,pg] [--cross-n 300] [--cross-rate 20] [--poll-ms 1000] [--binary PATH]
"""

import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from login import free_port  # noqa: E402  (the bench's shared helpers)

PG = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
PG_DB = "duban_whbench"


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def sign(secret, t, body):
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


# --- the receiver (its own process) -----------------------------------------------------------

def receiver_main(port, ctl):
    """Serves POST on 127.0.0.1:port (`/slow`: answers after `slow_ms`, a slow receiver);
    answers `ctl` requests: ("secret", path, s), ("slow", ms), ("count", path),
    ("take", path) -> the records of that path so far (and forgets them), ("stop",)."""
    lock = threading.Lock()
    state = {"secret": {}, "records": [], "slow_ms": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            got = mono_ns()
            wall = time.time()
            sig = self.headers.get("Duban-Signature") or ""
            rec = {"recv_ns": got, "recv_wall": wall, "bytes": len(body), "path": self.path,
                   "delivery": self.headers.get("Duban-Delivery"), "sent_ns": self.headers.get("X-Bench-Sent")}
            parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
            secret = state["secret"].get(self.path)
            try:
                t = int(parts.get("t", ""))
                rec["sig_ok"] = bool(secret) and hmac.compare_digest(sign(secret, t, body), parts.get("v1", ""))
                rec["t_skew_s"] = round(wall - t, 3)
            except ValueError:
                rec["sig_ok"] = False
            try:
                ev = json.loads(body)
                rec.update(event=ev.get("id"), type=ev.get("type"), occurred_at=ev.get("occurred_at"),
                           urge=(ev.get("data") or {}).get("urge_id"))
            except ValueError:
                rec["event"] = None
            with lock:
                state["records"].append(rec)
            if self.path == "/slow":
                time.sleep(state["slow_ms"] / 1000)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    srv = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ctl.send("ready")
    while True:
        msg = ctl.recv()
        if msg[0] == "secret":
            state["secret"][msg[1]] = msg[2]
            ctl.send("ok")
        elif msg[0] == "slow":
            state["slow_ms"] = msg[1]
            ctl.send("ok")
        elif msg[0] == "count":
            with lock:
                ctl.send(sum(1 for r in state["records"] if r["path"] == msg[1]))
        elif msg[0] == "take":
            with lock:
                recs = [r for r in state["records"] if r["path"] == msg[1]]
                state["records"] = [r for r in state["records"] if r["path"] != msg[1]]
            ctl.send(recs)
        else:
            srv.shutdown()
            ctl.send("bye")
            return


class Receiver:
    def __init__(self):
        self.port = free_port()
        self.ctl, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=receiver_main, args=(self.port, child), daemon=True)
        self.proc.start()
        assert self.ctl.recv() == "ready"
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def ask(self, *msg):
        self.ctl.send(msg)
        return self.ctl.recv()

    def wait_for(self, n, timeout, settle, path="/hook"):
        """Waits until n records came to `path` (or timeout s passed), then `settle` s more for
        extras; returns them."""
        end = time.monotonic() + timeout
        while self.ask("count", path) < n and time.monotonic() < end:
            time.sleep(0.01)
        time.sleep(settle)
        return self.ask("take", path)

    def stop(self):
        try:
            self.ask("stop")
        finally:
            self.proc.join(5)


# --- the API ----------------------------------------------------------------------------------

class Api:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, body=None, token=None, expect=(200, 201)):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, "/api/v1" + path, body=body, headers=headers)
            res = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request(method, "/api/v1" + path, body=body, headers=headers)
            res = self.conn.getresponse()
        data = res.read()
        if res.status not in expect:
            raise RuntimeError(f"{method} {path}: {res.status} {data[:300]!r}")
        return json.loads(data) if data else None


def start_server(binary, url, tmp, password, jwt, name, **extra):
    port = free_port()
    env = dict(os.environ, DUBAN_DATABASE_URL=url, DUBAN_BIND=f"127.0.0.1:{port}", DUBAN_DEMO="false",
               DUBAN_ADMIN_USER="admin", DUBAN_ADMIN_PASSWORD=password, DUBAN_REMINDER_INTERVAL="0",
               DUBAN_LOG="warn", DUBAN_JWT_SECRET=jwt, DUBAN_DATA_DIR=os.path.join(tmp, "data"),
               DUBAN_WEBHOOK_ALLOWED_HOSTS="*,127.0.0.1")  # the receiver runs on this machine
    env.update({k: str(v) for k, v in extra.items()})
    log = open(os.path.join(tmp, f"{name}.log"), "ab")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    for _ in range(900):
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped: see {tmp}/{name}.log")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not get ready in 90 s")


def stop_server(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def setup(port, password, n):
    """A unit with `n` assignments of a published plan, and a coordinator; returns
    (coordinator token, unit id, assignment ids)."""
    api = Api(port)
    admin = api.call("POST", "/auth/login", {"username": "admin", "password": password})["access_token"]
    unit = api.call("POST", "/units", {"name": "市知识产权局", "kind": "city_department"}, admin)["id"]
    plan = api.call("POST", "/plans", {"title": "2026年计划", "year": 2026}, admin)["id"]
    sec = api.call("POST", f"/plans/{plan}/items", {"level": "section", "number": "一", "title": "板块"}, admin)["id"]
    task = api.call("POST", f"/plans/{plan}/items",
                    {"level": "task", "parent_id": sec, "number": "1", "title": "任务。"}, admin)["id"]
    asg = []
    for i in range(n):
        measure = api.call("POST", f"/plans/{plan}/items", {"level": "measure", "parent_id": task,
                                                            "number": str(i + 1), "title": "措施。"}, admin)["id"]
        asg.append(api.call("POST", f"/measures/{measure}/assignments",
                            {"participants": {"unit_ids": [unit]}, "due_date": "2099-12-31"}, admin)["created"][0]["id"])
    api.call("POST", f"/plans/{plan}/publish", {}, admin)
    api.call("POST", "/users", {"username": "office", "display_name": "督办员", "role": "coordinator",
                                "password": password}, admin)
    token = api.call("POST", "/auth/login", {"username": "office", "password": password})["access_token"]
    return token, unit, asg


# --- driving ----------------------------------------------------------------------------------

def urge_body(unit, asg, i):
    return {"unit_id": unit, "assignment_ids": [asg], "severity": "reminder",
            "message": f"请于本周内报送完成情况（基准 {i}）。"}


def drive_steady(port, token, unit, asg, n, rate):
    """n urges, one at a time, at `rate` per second; returns {urge id: (start_ns, return_ns)}."""
    api = Api(port)
    out = {}
    t0 = mono_ns()
    for i in range(n):
        due = t0 + int(i * 1e9 / rate)
        now = mono_ns()
        if due > now:
            time.sleep((due - now) / 1e9)
        s = mono_ns()
        u = api.call("POST", "/urges", urge_body(unit, asg, i), token)
        out[u["id"]] = (s, mono_ns())
    return out


def drive_burst(port, token, unit, asgs, n, clients):
    """n urges as fast as `clients` clients send them, each client about its own assignment
    (concurrent urges about one assignment can collide on its standing: 409); returns
    {urge id: (start_ns, return_ns)}."""
    out = {}
    lock = threading.Lock()
    errors = []

    def client(k):
        api = Api(port)
        mine = {}
        try:
            for i in range(k, n, clients):
                s = mono_ns()
                u = api.call("POST", "/urges", urge_body(unit, asgs[k], i), token)
                mine[u["id"]] = (s, mono_ns())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        with lock:
            out.update(mine)

    ts = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"burst: {errors[:3]}")
    return out


def floor(receiver, secret, n, size):
    """The same receiver timing plain signed POSTs from here, one at a time: send -> receipt."""
    receiver.ask("secret", "/hook", secret)
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=30)
    pad = "x" * max(0, size - 80)
    sent = []
    for i in range(n):
        body = json.dumps({"id": -(i + 1), "type": "bench.floor", "occurred_at": None, "data": {"pad": pad}}).encode()
        t = int(time.time())
        s = mono_ns()
        conn.request("POST", "/hook", body=body, headers={
            "Content-Type": "application/json", "Duban-Signature": f"t={t},v1={sign(secret, t, body)}"})
        conn.getresponse().read()
        sent.append(s)
    recs = receiver.wait_for(n, 30, 0.2)
    by = {-r["event"]: r for r in recs if isinstance(r.get("event"), int) and r["event"] < 0}
    lat = [(by[i + 1]["recv_ns"] - s) / 1e6 for i, s in enumerate(sent) if (i + 1) in by]
    bad = sum(1 for r in recs if not r.get("sig_ok"))
    return {"n": n, "received": len(by), "bad_signatures": bad, **stats(lat)}


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))] if s else float("nan")


def stats(ms):
    return {"p50_ms": round(pct(ms, 50), 2), "p90_ms": round(pct(ms, 90), 2), "p99_ms": round(pct(ms, 99), 2),
            "max_ms": round(max(ms), 2) if ms else float("nan")}


def parse_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def measure(receiver, issued, settle, timeout, path="/hook"):
    """Collects the deliveries of `issued` ({urge id: (start, return)}) to `path` and works out
    the figures."""
    recs = receiver.wait_for(len(issued), timeout, settle, path)
    by_event = {}
    for r in recs:
        by_event.setdefault(r.get("event"), []).append(r)
    dup = {e: len(rs) for e, rs in by_event.items() if len(rs) > 1}
    by_urge = {}
    for r in recs:
        by_urge.setdefault(r.get("urge"), r)
    missing = [u for u in issued if u not in by_urge]
    strays = [r for r in recs if r.get("urge") not in issued]
    lat, lat_occ, raw = [], [], []
    for u, (s, ret) in issued.items():
        r = by_urge.get(u)
        if r:
            lat.append((r["recv_ns"] - ret) / 1e6)
            raw.append([u, r.get("delivery"), round((ret - s) / 1e6, 3), round(lat[-1], 3)])
            lat_occ.append((r["recv_wall"] - parse_ts(r["occurred_at"])) * 1000)
    first = min(s for s, _ in issued.values())
    last_ret = max(ret for _, ret in issued.values())
    last_recv = max((r["recv_ns"] for r in recs), default=last_ret)
    api_ms = [(ret - s) / 1e6 for s, ret in issued.values()]
    return {
        "events": len(issued), "received": len(recs), "distinct_events": len(by_event),
        "duplicates": len(dup), "missing": len(missing), "strays": len(strays),
        "bad_signatures": sum(1 for r in recs if not r.get("sig_ok")),
        "exactly_once": not dup and not missing and not strays and len(recs) == len(issued),
        "latency": stats(lat),
        "occurred_to_receipt": stats(lat_occ),
        "api_call": stats(api_ms),
        "calls_per_s": round(len(issued) / ((last_ret - first) / 1e9), 1),
        "deliveries_per_s": round(len(recs) / ((last_recv - first) / 1e9), 1),
        "drain_ms_after_last_call": round((last_recv - last_ret) / 1e6, 1),
        "max_signature_skew_s": max((abs(r.get("t_skew_s", 0)) for r in recs), default=0),
        "raw": {"columns": ["urge", "delivery", "api_ms", "latency_ms"], "rows": raw},
    }


def brief(m):
    return {k: v for k, v in m.items() if k != "raw"}


def delivery_rows(url):
    """Deliveries in the database: rows, by state, and attempts in all."""
    q = "SELECT state, count(*), sum(attempts) FROM webhook_deliveries GROUP BY state"
    if url.startswith("sqlite://"):
        c = sqlite3.connect(url[len("sqlite://"):])
        rows = c.execute(q).fetchall()
        c.close()
    else:
        out = subprocess.run(PG + ["-d", PG_DB, "-Atc", q], capture_output=True, text=True, timeout=60).stdout
        rows = [tuple(line.split("|")) for line in out.strip().splitlines()]
    return {s: {"rows": int(n), "attempts": int(a)} for s, n, a in rows}


# --- one backend ------------------------------------------------------------------------------

def run_backend(args, backend, receiver, tmp):
    password = "bench admin passphrase " + uuid.uuid4().hex[:8]
    jwt = "bench-secret-bench-secret-bench-" + uuid.uuid4().hex[:12]
    if backend == "sqlite":
        url = f"sqlite://{tmp}/duban.db"
    else:
        subprocess.run(PG + ["-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)",
                             "-c", f"CREATE DATABASE {PG_DB}"], check=True, timeout=120)
        url = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    res = {"backend": backend, "loadavg": [os.getloadavg()[0]]}
    procs = []
    try:
        proc, port = start_server(args.binary, url, tmp, password, jwt, f"{backend}-a",
                                  DUBAN_WEBHOOK_POLL_MS=args.poll_ms)
        procs.append(proc)
        token, unit, asgs = setup(port, password, max(1, args.burst_clients))
        asg = asgs[0]
        api = Api(port)
        hook = api.call("POST", "/webhooks", {"url": receiver.url, "events": ["urge.issued"], "covers": "all",
                                               "description": "bench receiver"}, token)
        secret = hook["secret"]
        # A few urges first (connections, caches), delivered and thrown away.
        receiver.ask("secret", "/hook", secret)
        warm = drive_steady(port, token, unit, asg, 20, 100)
        receiver.wait_for(len(warm), 30, 0.5)

        size = len(json.dumps({"id": 1, "type": "urge.issued", "occurred_at": "2026-12-05T23:00:00.123456Z",
                               "data": {"urge_id": 1, "unit_id": unit, "assignment_ids": [asg], "severity": "reminder",
                                        "message": urge_body(unit, asg, 0)["message"], "reply_by": None,
                                        "automatic": False, "issued_at": "2026-12-05T23:00:00Z"}}).encode())
        res["floor"] = floor(receiver, secret, args.n, size)
        print(f"[{backend}] floor (plain signed POST): {res['floor']}", file=sys.stderr)

        issued = drive_steady(port, token, unit, asg, args.n, args.rate)
        res["steady"] = measure(receiver, issued, settle=2.5 * args.poll_ms / 1000, timeout=120)
        res["steady"]["rate"] = args.rate
        print(f"[{backend}] steady {args.n} at {args.rate}/s: {brief(res['steady'])}", file=sys.stderr)

        issued = drive_burst(port, token, unit, asgs, args.burst, args.burst_clients)
        res["burst"] = measure(receiver, issued, settle=2.5 * args.poll_ms / 1000, timeout=300)
        res["burst"]["clients"] = args.burst_clients
        print(f"[{backend}] burst {args.burst} by {args.burst_clients}: {brief(res['burst'])}", file=sys.stderr)

        if args.slow_n > 0:
            # A second subscription whose receiver takes --slow-ms to answer, beside the first.
            slow = api.call("POST", "/webhooks", {"url": receiver.url.replace("/hook", "/slow"),
                                                  "events": ["urge.issued"], "covers": "all"}, token)
            receiver.ask("secret", "/slow", slow["secret"])
            receiver.ask("slow", args.slow_ms)
            issued = drive_steady(port, token, unit, asg, args.slow_n, args.slow_rate)
            res["beside_slow"] = measure(receiver, issued, settle=2.5 * args.poll_ms / 1000, timeout=120)
            res["beside_slow"].update(rate=args.slow_rate, slow_ms=args.slow_ms)
            res["slow_receiver"] = measure(receiver, issued, settle=1, timeout=120, path="/slow")
            res["slow_receiver"].update(rate=args.slow_rate, slow_ms=args.slow_ms)
            api.call("DELETE", f"/webhooks/{slow['id']}", token=token, expect=(204,))
            print(f"[{backend}] beside a receiver answering in {args.slow_ms} ms: {brief(res['beside_slow'])}; "
                  f"the slow one: {brief(res['slow_receiver'])}", file=sys.stderr)
        if backend == "pg" and args.cross_n > 0:
            # A second server on the same database delivers; the first no longer does.
            stop_server(proc)
            procs.remove(proc)
            writer, wport = start_server(args.binary, url, tmp, password, jwt, "pg-writer",
                                         DUBAN_WEBHOOK_WORKER="false")
            procs.append(writer)
            deliverer, _ = start_server(args.binary, url, tmp, password, jwt, "pg-deliverer",
                                        DUBAN_WEBHOOK_POLL_MS=args.poll_ms)
            procs.append(deliverer)
            warm = drive_steady(wport, token, unit, asg, 5, 10)
            receiver.wait_for(len(warm), 30, 0.2)
            issued = drive_steady(wport, token, unit, asg, args.cross_n, args.cross_rate)
            res["cross"] = measure(receiver, issued, settle=2.5 * args.poll_ms / 1000, timeout=120)
            res["cross"]["rate"] = args.cross_rate
            print(f"[{backend}] cross-instance {args.cross_n} at {args.cross_rate}/s: {brief(res['cross'])}", file=sys.stderr)
        res["rows"] = delivery_rows(url)
        res["loadavg"].append(os.getloadavg()[0])
        logs = ""
        for f in os.listdir(tmp):
            if f.startswith(backend) and f.endswith(".log"):
                logs += open(os.path.join(tmp, f), errors="replace").read()
        res["server_warnings"] = sum(1 for line in logs.splitlines() if "WARN" in line or "ERROR" in line)
        return res
    finally:
        for p in procs:
            stop_server(p)
        if backend == "pg" and not args.keep:
            subprocess.run(PG + ["-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"],
                           timeout=120)


# --- the report -------------------------------------------------------------------------------

def markdown(meta, results, cmd):
    L = ["## Webhook delivery (bench/webhooks.py)", "",
         f"`{cmd}` — {meta['date']}; {meta['nproc']} cores ({meta['cpu']}), shared by duban, PostgreSQL, "
         f"the driver and the receiver; release build of commit `{meta['commit']}`"
         + (f" with {meta['dirty']} uncommitted file(s) under src/" if meta["dirty"] != "0" else "") + ".",
         "",
         "Each change is one `POST /api/v1/urges` by the coordinator (one `urge.issued` event); the office "
         "subscribes a receiver on 127.0.0.1 (Python `http.server` in its own process, HTTP/1.1, verifying "
         "`Duban-Signature`). **Latency** = receipt of the signed delivery − the return of the API call that "
         "committed the change (one monotonic clock); *occurred → receipt* counts from the event's "
         "`occurred_at` (taken by the use case before its commit) instead. The **floor** is the same receiver "
         "timing a plain signed POST of the same size from the driver (send → receipt), in the same run; "
         "the ratio is p50 / floor p50. Worker: woken by writes on the same instance, else polls every "
         f"{meta['poll_ms']} ms.", "",
         "| backend | run | events | calls/s | deliveries/s | p50 ms | p90 ms | p99 ms | max ms | p50 / floor | "
         "occurred → receipt p50 / p99 ms | API call p50 / p99 ms | exactly once |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        fl = r["floor"]
        L.append(f"| {r['backend']} | floor: plain signed POST | {fl['n']} | — | — | {fl['p50_ms']:.2f} | "
                 f"{fl['p90_ms']:.2f} | {fl['p99_ms']:.2f} | {fl['max_ms']:.2f} | 1 | — | — | "
                 f"{fl['received']}/{fl['n']} received |")
        for key, label in [("steady", "steady, {rate}/s, 1 client"), ("burst", "burst, {clients} clients"),
                           ("beside_slow", "steady {rate}/s, beside a 2nd subscription answering in {slow_ms} ms"),
                           ("slow_receiver", "(that 2nd subscription, {slow_ms} ms to answer)"),
                           ("cross", "steady {rate}/s, written on instance A, delivered by B (poll)")]:
            m = r.get(key)
            if not m:
                continue
            lat, occ, api = m["latency"], m["occurred_to_receipt"], m["api_call"]
            once = ("yes" if m["exactly_once"] else
                    f"**no**: {m['missing']} missing, {m['duplicates']} duplicated, {m['strays']} strays")
            if m["bad_signatures"]:
                once += f"; **{m['bad_signatures']} bad signatures**"
            L.append(f"| {r['backend']} | {label.format(**m)} | {m['events']} | {m['calls_per_s']:,} | "
                     f"{m['deliveries_per_s']:,} | {lat['p50_ms']:.2f} | {lat['p90_ms']:.2f} | {lat['p99_ms']:.2f} | "
                     f"{lat['max_ms']:.2f} | {lat['p50_ms'] / fl['p50_ms']:.1f} | {occ['p50_ms']:.2f} / "
                     f"{occ['p99_ms']:.2f} | {api['p50_ms']:.2f} / {api['p99_ms']:.2f} | {once} |")
    L.append("")
    notes = []
    for r in results:
        rows = ", ".join(f"{s}: {v['rows']} rows, {v['attempts']} attempts" for s, v in sorted(r["rows"].items()))
        notes.append(f"{r['backend']}: delivery rows {rows}; server warnings/errors logged: {r['server_warnings']}; "
                     f"signature timestamps within {max(r[k]['max_signature_skew_s'] for k in ('steady', 'burst') if k in r)} s "
                     f"of receipt")
    for r in results:
        st, sl, cr = r.get("steady"), r.get("beside_slow"), r.get("cross")
        if st and sl:
            L.append(f"{r['backend']}: beside a second subscription whose receiver takes {sl['slow_ms']} ms to answer, "
                     f"the first one's deliveries take p50 {sl['latency']['p50_ms']:.2f} ms / p99 "
                     f"{sl['latency']['p99_ms']:.2f} ms instead of {st['latency']['p50_ms']:.2f} / "
                     f"{st['latency']['p99_ms']:.2f} ms alone ({sl['latency']['p50_ms'] / st['latency']['p50_ms']:.1f}× "
                     "at p50): each subscription is served by its own task, one delivery at a time, and the "
                     "worker claims for the others while the slow one waits for its answer (`spawn` and "
                     "`serve` in src/jobs/webhooks.rs). The slow subscription itself takes one delivery "
                     f"per answer, {1000 / sl['slow_ms']:.0f}/s, against {sl['calls_per_s']:.0f} events/s: its queue grows "
                     "for as long as the run lasts, the price of its deliveries going in order, one at a time.")
            L.append("")
        if st and cr:
            L.append(f"{r['backend']}: written on one instance and delivered by another, p50 "
                     f"{cr['latency']['p50_ms']:.0f} ms / max {cr['latency']['max_ms']:.0f} ms against "
                     f"{st['latency']['p50_ms']:.2f} ms on one instance: the delivering worker is not woken by "
                     f"the other's writes and finds them by polling every {meta['poll_ms']} ms (half of it on "
                     "average).")
            L.append("")
    L.append("Load average (1 min) before / after each backend's runs: " + "; ".join(
        f"{r['backend']} {r['loadavg'][0]:.1f} / {r['loadavg'][1]:.1f}" for r in results)
        + " (other work on the machine shares the 2 cores; the tails move with it).")
    L.append("")
    L.append("Checked: " + "; ".join(notes) + ". Every event is counted by its id at the receiver and "
             "matched to the urge the API returned (`data.urge_id`).")
    L.append("")
    return "\n".join(L)


def put_in_results(section, path):
    begin, end = "<!-- webhooks -->", "<!-- /webhooks -->"
    text = open(path).read() if os.path.exists(path) else ""
    block = f"{begin}\n{section.rstrip()}\n{end}\n"
    if begin in text and end in text:
        a, b = text.index(begin), text.index(end) + len(end)
        text = text[:a] + block.rstrip("\n") + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="urges at a steady rate (and floor POSTs)")
    ap.add_argument("--rate", type=float, default=50, help="steady urges per second")
    ap.add_argument("--burst", type=int, default=2000, help="urges sent as fast as possible")
    ap.add_argument("--burst-clients", type=int, default=4)
    ap.add_argument("--cross-n", type=int, default=300, help="PostgreSQL: urges written on one instance, "
                    "delivered by another (0: skip)")
    ap.add_argument("--cross-rate", type=float, default=20)
    ap.add_argument("--slow-n", type=int, default=200, help="urges while a second subscription's receiver "
                    "is slow (0: skip)")
    ap.add_argument("--slow-ms", type=int, default=500, help="how long the slow receiver takes to answer")
    ap.add_argument("--slow-rate", type=float, default=20)
    ap.add_argument("--poll-ms", type=int, default=1000, help="DUBAN_WEBHOOK_POLL_MS of the delivering servers")
    ap.add_argument("--backends", default="sqlite,pg")
    ap.add_argument("--keep", action="store_true", help="keep the work folders, the servers' logs and the database")
    ap.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                                                     "release", "duban"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "webhooks.json"))
    ap.add_argument("--raw", default="", help="also every event's figures (urge, delivery, API ms, latency ms) here")
    ap.add_argument("--md", default=os.path.join(ROOT, "bench", "results", "webhooks.md"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"),
                    help="where the Markdown section goes too ('' : nowhere)")
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"build first: cargo build --release ({args.binary} not found)")

    def sh(c):
        try:
            return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=60, cwd=ROOT).stdout.strip()
        except Exception:  # noqa: BLE001
            return ""

    meta = {"date": sh("date -u '+%Y-%m-%d %H:%M UTC'"), "nproc": os.cpu_count(),
            "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'"),
            "commit": sh("git rev-parse --short HEAD"), "dirty": sh("git status --porcelain -- src | wc -l"),
            "pg": sh("psql -h 127.0.0.1 -U postgres -X -Atc 'SHOW server_version'"),
            "poll_ms": args.poll_ms, "args": vars(args)}
    receiver = Receiver()
    results = []
    try:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            tmp = tempfile.mkdtemp(prefix=f"duban-webhooks-{backend}-")
            try:
                results.append(run_backend(args, backend, receiver, tmp))
            finally:
                if args.keep:
                    print(f"kept {tmp}", file=sys.stderr)
                else:
                    shutil.rmtree(tmp, ignore_errors=True)
    finally:
        receiver.stop()
    cmd = "python3 bench/webhooks.py " + " ".join(a for a in sys.argv[1:] if not a.startswith("--binary")
                                                   and not os.path.isabs(a))
    section = markdown(meta, results, cmd.strip())
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump(results, f, ensure_ascii=False)
    for r in results:
        for m in r.values():
            if isinstance(m, dict):
                m.pop("raw", None)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1, ensure_ascii=False)
    with open(args.md, "w") as f:
        f.write(section)
    if args.results:
        put_in_results(section, args.results)
    print(section)
    bad = [r["backend"] + "/" + k for r in results for k in ("steady", "burst", "cross")
           if k in r and (not r[k]["exactly_once"] or r[k]["bad_signatures"])]
    if bad:
        print(f"NOT exactly once, or bad signatures: {bad}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
