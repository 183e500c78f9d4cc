#!/usr/bin/env python3
"""Sign-in latency: what the argon2id check costs a person signing in.

Starts the release binary on a fresh SQLite database, then times, sequentially over loopback:
  - POST /api/v1/auth/login with the right password (one argon2id verification + 3 writes),
  - POST /api/v1/auth/login with a wrong password (the same verification + the failure counters),
  - GET  /api/v1/me with the token (the baseline: JWT check + one account read),
  - GET  /healthz (the floor: HTTP round trip only).
Prints p50/p99 in milliseconds and the ratio of each to the /me baseline measured in the same run.

Usage: cargo build --release && python3 bench/login.py [--n 200]
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "duban")
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
