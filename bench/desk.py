#!/usr/bin/env python3
"""The office's desk at scale: the overdue query and per-unit statistics over a generated year
(100,000 assignments, 1,000,000 reports) on PostgreSQL, through the API and as the same SQL
timed directly with pgbench, in one run.

Steps: create database duban_bench on 127.0.0.1:5432, migrate it with the release binary, fill
it with bench/generate.sql, serve it, time each request sequentially over one keep-alive
connection, capture from PostgreSQL's log the exact statements the server ran, time those with
pgbench (per-transaction log), and write bench/results/desk.md (+ desk-explain.txt).

Usage: cargo build --release && python3 bench/desk.py [--n 100] [--keep]
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
DB = "duban_bench"
PG_LOG = "/var/log/postgresql/postgresql-15-main.log"

QUERIES = [
    ("overdue, year end", "/api/v1/overdue?as_of=2020-01-15&plan=1&limit=50", "ORDER BY o.deadline"),
    ("overdue, mid-year", "/api/v1/overdue?as_of=2019-11-15&plan=1&limit=50", "ORDER BY o.deadline"),
    ("stats per unit", "/api/v1/stats/units?plan=1&as_of=2020-01-15", "AS key_name, COUNT(*) AS assigned"),
]


def psql(db, sql, capture=True):
    out = subprocess.run(["psql", *PG, "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                         check=True, capture_output=capture, text=True, timeout=900)
    return out.stdout.strip() if capture else ""


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(conn, path, token=None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    method = "GET"
    if body is not None:
        method = "POST"
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    return (time.perf_counter() - t0) * 1000.0, res.status, data


def captured_statements(log_offset, as_ofs):
    """The statements the server ran after `log_offset`, with their parameters substituted."""
    with open(PG_LOG, "r", errors="replace") as f:
        f.seek(log_offset)
        lines = f.read().splitlines()
    found = []
    for i, line in enumerate(lines):
        m = re.search(r"execute [^:]*: (SELECT .*)$", line)
        if not m:
            continue
        sql = m.group(1)
        params = {}
        if i + 1 < len(lines) and "parameters:" in lines[i + 1]:
            for k, v in re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", lines[i + 1]):
                params[int(k)] = v
        for k in sorted(params, reverse=True):
            sql = re.sub(r"\$%d(?!\d)" % k, params[k], sql)
        found.append(sql)
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "duban")
    if not os.path.exists(binary):
        sys.exit("build first: cargo build --release")
    psql("test", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql("test", f"CREATE DATABASE {DB}")
    url = f"postgres://postgres@127.0.0.1:5432/{DB}"
    env = dict(os.environ, DUBAN_DATABASE_URL=url, DUBAN_LOG="warn")
    subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True, timeout=300)
    t0 = time.time()
    subprocess.run(["psql", *PG, "-d", DB, "-v", "ON_ERROR_STOP=1", "-q", "-f",
                    os.path.join(ROOT, "bench", "generate.sql")], check=True, timeout=1800)
    generated_in = time.time() - t0
    counts = {t: int(psql(DB, f"SELECT count(*) FROM {t}")) for t in ["units", "plan_items", "assignments", "reports"]}
    size = psql(DB, f"SELECT pg_size_pretty(pg_database_size('{DB}'))")
    psql("test", f"ALTER DATABASE {DB} SET log_min_duration_statement = 0")
    log_offset = os.path.getsize(PG_LOG)

    port = free_port()
    password = "bench admin passphrase"
    server_env = dict(env, DUBAN_BIND=f"127.0.0.1:{port}", DUBAN_DEMO="false", DUBAN_ADMIN_USER="admin",
                      DUBAN_ADMIN_PASSWORD=password, DUBAN_JWT_SECRET=secrets.token_urlsafe(40),
                      DUBAN_REMINDER_INTERVAL="0", DUBAN_POOL_SIZE="4")
    server = subprocess.Popen([binary, "serve"], env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="duban-desk-")
    results = []
    try:
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        _, status, data = request(conn, "/api/v1/auth/login", body={"username": "admin", "password": password})
        assert status == 200, data
        token = json.loads(data)["access_token"]
        floor = []
        for _ in range(args.n):
            floor.append(request(conn, "/healthz")[0])
        api = {}
        for name, path, _ in QUERIES:
            ms, status, data = request(conn, path, token)
            assert status == 200, (path, status, data[:300])
            for _ in range(4):
                request(conn, path, token)
            api[name] = [request(conn, path, token)[0] for _ in range(args.n)]
        psql("test", f"ALTER DATABASE {DB} RESET log_min_duration_statement")
        time.sleep(0.5)
        statements = captured_statements(log_offset, None)
        explain = []
        for name, path, marker in QUERIES:
            as_of = re.search(r"as_of=([0-9-]+)", path).group(1)
            sql = next(s for s in statements if marker in s and f"'{as_of}'" in s)
            script = os.path.join(tmp, re.sub(r"\W+", "_", name) + ".sql")
            with open(script, "w") as f:
                f.write(sql + ";\n")
            prefix = os.path.join(tmp, "pgbench_" + re.sub(r"\W+", "_", name))
            subprocess.run(["pgbench", *PG, "-n", "-c", "1", "-t", str(args.n), "-f", script, "--log",
                            f"--log-prefix={prefix}", DB], check=True, capture_output=True, timeout=1800, cwd=tmp)
            lat = []
            for fn in os.listdir(tmp):
                if fn.startswith(os.path.basename(prefix) + ".") and not fn.endswith(".sql"):
                    with open(os.path.join(tmp, fn)) as f:
                        lat += [int(l.split()[2]) / 1000.0 for l in f if l.strip()]
            plan = psql(DB, "EXPLAIN (ANALYZE, BUFFERS) " + sql)
            explain.append(f"== {name}: {path}\n{sql}\n\n{plan}\n")
            a, s = api[name], lat
            results.append((name, path, pct(a, 50), pct(a, 99), pct(s, 50), pct(s, 99)))
        with open(os.path.join(ROOT, "bench", "results", "desk-explain.txt"), "w") as f:
            f.write("\n".join(explain))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        psql("test", f"ALTER DATABASE {DB} RESET log_min_duration_statement")
        if not args.keep:
            psql("test", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")

    fl50, fl99 = pct(floor, 50), pct(floor, 99)
    lines = [
        "# The office's desk at scale (bench/desk.py)",
        "",
        f"PostgreSQL 15 on 127.0.0.1, release build, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d', time.gmtime())}.",
        f"Data (bench/generate.sql, {generated_in:.0f} s to generate): {counts['units']:,} units, "
        f"{counts['plan_items']:,} plan items, {counts['assignments']:,} monthly assignments, "
        f"{counts['reports']:,} reports; database {size}.",
        "",
        f"Sequential requests over one keep-alive connection, n = {args.n} each after 5 warm-up; the",
        "baseline is the same SQL (captured from PostgreSQL's log as the server sent it) timed by",
        "pgbench with one client in the same run. HTTP floor (GET /healthz): "
        f"p50 {fl50:.2f} ms, p99 {fl99:.2f} ms.",
        "",
        "| query | API p50 ms | API p99 ms | SQL p50 ms | SQL p99 ms | API p50 / SQL p50 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, path, a50, a99, s50, s99 in results:
        lines.append(f"| {name} (`{path.split('/api/v1')[1]}`) | {a50:.1f} | {a99:.1f} | {s50:.1f} | {s99:.1f} | {a50 / s50:.2f} |")
    lines.append("")
    text = "\n".join(lines)
    with open(os.path.join(ROOT, "bench", "results", "desk.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
