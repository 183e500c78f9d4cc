#!/usr/bin/env python3
"""Sign-in latency: what the argon2id check costs a person signing in.

Starts the release binary on a fresh SQLite database, then times, sequentially over loopback:
  - POST /api/v1/auth/login with the right password (one argon2id verification + 3 writes),
  - POST /api/v1/auth/login with a wrong password (the same verification + the failure counters),
  - GET  /api/v1/me with the token (the baseline: JWT check + one account read),
  - GET  /healthz (the floor: HTTP round trip only).
Prints p50/p99 in milliseconds and the ratio of each to the /me baseline measured in the same run.

With --load: sign-in at full rate beside reads. After a quiet spell (the idle RSS and the /me
baseline), --conc clients sign in with the right password as fast as they can for --secs seconds
while one more client, in its own process, times GET /api/v1/me sequentially; the server's VmRSS
is sampled every 100 ms from /proc throughout and for 5 s after the load stops. Prints logins/s
(and any non-200 answers), /me p50/p99 before and during, and RSS idle, max during and 5 s after.

Usage: cargo build --release && python3 bench/login.py [--n 200]
       python3 bench/login.py --load [--conc 8] [--secs 15] [--binary PATH]
"""

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(conn, method, path, body=None, token=None):
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    return (time.perf_counter() - t0) * 1000.0, res.status, data


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def rss_mb(pid, field="VmRSS"):
    """The server's resident set (or its peak, VmHWM) in MB, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def me_client(port, token, stop, out):
    """Times GET /me sequentially until told to stop (its own process: no shared GIL)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples, bad = [], 0
    while not stop.is_set():
        ms, status, _ = request(conn, "GET", "/api/v1/me", token=token)
        samples.append(ms)
        bad += status != 200
    out.put((samples, bad))


def login_load(args, port, password, pid, token):
    """Sign-ins at full rate beside a sequential /me client, with the server's RSS sampled."""
    ok = {"username": "admin", "password": password}
    rss = []  # (seconds since the load started, MB)
    sampling = threading.Event()

    def sampler(t0):
        while not sampling.is_set():
            rss.append((time.perf_counter() - t0, rss_mb(pid)))
            time.sleep(0.1)

    def me_phase():
        stop, out = multiprocessing.Event(), multiprocessing.Queue()
        proc = multiprocessing.Process(target=me_client, args=(port, token, stop, out))
        proc.start()
        return stop, out, proc

    # Quiet: idle RSS and the /me baseline, nothing else running.
    time.sleep(2)
    quiet = []
    for _ in range(10):
        quiet.append(rss_mb(pid))
        time.sleep(0.1)
    idle = statistics.median(quiet)
    stop, out, proc = me_phase()
    time.sleep(3)
    stop.set()
    me_before, me_before_bad = out.get(timeout=30)
    proc.join(timeout=30)

    # Load: --conc sign-in clients and the /me client together for --secs seconds.
    t0 = time.perf_counter()
    sampler_thread = threading.Thread(target=sampler, args=(t0,), daemon=True)
    sampler_thread.start()
    deadline = t0 + args.secs
    counts = {"ok": 0, "other": {}}
    lock = threading.Lock()

    def signer():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < deadline:
            _, status, _ = request(conn, "POST", "/api/v1/auth/login", ok)
            with lock:
                if status == 200:
                    counts["ok"] += 1
                else:
                    counts["other"][status] = counts["other"].get(status, 0) + 1

    stop, out, proc = me_phase()
    signers = [threading.Thread(target=signer) for _ in range(args.conc)]
    for t in signers:
        t.start()
    for t in signers:
        t.join(timeout=args.secs + 120)
    elapsed = time.perf_counter() - t0
    stop.set()
    me_during, me_during_bad = out.get(timeout=30)
    proc.join(timeout=30)
    t_end = time.perf_counter() - t0

    # After: RSS for 5 more seconds.
    time.sleep(5)
    sampling.set()
    sampler_thread.join(timeout=5)
    during = [mb for t, mb in rss if t <= t_end]
    after = [mb for t, mb in rss if t > t_end]
    hwm = rss_mb(pid, "VmHWM")

    print(f"sign-in load: c={args.conc} for {elapsed:.1f} s, binary {args.binary}")
    print(f"  logins/s          {counts['ok'] / elapsed:10.1f}   ({counts['ok']} ok, "
          f"other answers {counts['other'] or 'none'})")
    print(f"  /me before        p50 {pct(me_before, 50):7.2f} ms   p99 {pct(me_before, 99):7.2f} ms"
          f"   (n={len(me_before)}, non-200 {me_before_bad})")
    print(f"  /me during        p50 {pct(me_during, 50):7.2f} ms   p99 {pct(me_during, 99):7.2f} ms"
          f"   (n={len(me_during)}, non-200 {me_during_bad}, {len(me_during) / elapsed:.0f} req/s)")
    print(f"  RSS idle          {idle:7.1f} MB")
    print(f"  RSS max during    {max(during):7.1f} MB   (VmHWM {hwm:.1f} MB)")
    print(f"  RSS 5 s after     {after[-1]:7.1f} MB   (max over the 5 s {max(after):.1f} MB)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--load", action="store_true", help="sign-ins at full rate beside /me reads")
    ap.add_argument("--conc", type=int, default=8, help="sign-in clients (--load)")
    ap.add_argument("--secs", type=float, default=15.0, help="seconds of sign-in load (--load)")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "duban"))
    args = ap.parse_args()
    binary = args.binary
    if not os.path.exists(binary):
        sys.exit("build first: cargo build --release")
    tmp = tempfile.mkdtemp(prefix="duban-bench-")
    port = free_port()
    password = "bench admin passphrase"
    env = dict(os.environ,
               DUBAN_DATABASE_URL=f"sqlite://{tmp}/duban.db",
               DUBAN_BIND=f"127.0.0.1:{port}",
               DUBAN_DEMO="false",
               DUBAN_ADMIN_USER="admin",
               DUBAN_ADMIN_PASSWORD=password,
               DUBAN_LOG="warn",
               DUBAN_JWT_SECRET="bench-secret-bench-secret-bench-secret-42")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results = {}
        ok = {"username": "admin", "password": password}
        bad = {"username": "ghost", "password": "not the password"}
        _, status, data = request(conn, "POST", "/api/v1/auth/login", ok)
        assert status == 200, data
        token = json.loads(data)["access_token"]
        if args.load:
            login_load(args, port, password, server.pid, token)
            return

        def run(name, fn, n):
            samples = []
            for _ in range(n):
                ms, status, data = fn()
                samples.append(ms)
            results[name] = samples

        run("healthz", lambda: request(conn, "GET", "/healthz"), args.n)
        run("me", lambda: request(conn, "GET", "/api/v1/me", token=token), args.n)
        run("login_ok", lambda: request(conn, "POST", "/api/v1/auth/login", ok), args.n)
        # Unknown accounts: spread over names so per-account throttling does not kick in; the
        # per-address allowance (30 per 15 min) bounds how many can be timed.
        names = iter(range(10**6))
        run("login_unknown", lambda: request(conn, "POST", "/api/v1/auth/login",
                                             {"username": f"ghost{next(names)}", "password": "x" * 12}), 29)
        base = statistics.median(results["me"])
        print(f"{'operation':<16}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'p50 / me':>10}")
        for name, s in results.items():
            print(f"{name:<16}{len(s):>6}{pct(s, 50):>10.2f}{pct(s, 99):>10.2f}{pct(s, 50) / base:>10.1f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
