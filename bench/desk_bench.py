#!/usr/bin/env python3
"""Helpers of bench/desk.sh (standard library only): wait for the server, capture from
PostgreSQL's log the exact SQL the server sends for each timed request, time the API beside that
SQL under pgbench, explain the SQL, and write bench/results/desk.md.

    desk_bench.py ready   --port P
    desk_bench.py capture --port P --db DB --log FILE --out DIR
    desk_bench.py time    --port P --db DB --sql DIR --n 100 --out DIR/times.json
    desk_bench.py explain --db DB --sql DIR --out bench/results/desk-explain.txt --json DIR/explain.json
    desk_bench.py report  --db DB --times ... --explain-json ... --meta ... --out bench/results/desk.md

Everything talks to 127.0.0.1 only and every wait is bounded.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

PASSWORD = "bench admin passphrase"
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]

# (key, label, path, a fragment only the statement of interest contains). The generated year is
# 2019, long past: a) to c) read the standing valid at the end of a day in the past (the
# version clause on valid_from / valid_to of src/store/desk.rs), d) and e) the current one.
OVERDUE = "ORDER BY s.deadline, a.id LIMIT"
QUERIES = [
    ("a", "overdue, year end", "/api/v1/overdue?as_of=2020-01-15&plan=1&limit=50", OVERDUE),
    ("b", "overdue, mid-year", "/api/v1/overdue?as_of=2019-11-15&plan=1&limit=50", OVERDUE),
    ("c", "statistics per unit", "/api/v1/stats/units?plan=1&as_of=2020-01-15", "AS assigned"),
    ("d", "overdue, today", "/api/v1/overdue?plan=1&limit=50", OVERDUE),
    ("e", "statistics per unit, today", "/api/v1/stats/units?plan=1", "AS assigned"),
]
FLOOR = ("f", "HTTP floor", "/healthz")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pct(samples, p):
    """Nearest-rank percentile, as bench/login.py computes it."""
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def connect(port, timeout=180):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def request(conn, method, path, token=None, body=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    return (time.perf_counter() - t0) * 1000.0, res.status, data


def login(conn):
    _, status, data = request(conn, "POST", "/api/v1/auth/login", body={"username": "admin", "password": PASSWORD})
    if status != 200:
        sys.exit(f"login failed: {status} {data[:300]!r}")
    return json.loads(data)["access_token"]


def psql(db, sql, timeout=600):
    out = subprocess.run(["psql", *PG, "-d", db, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                         check=True, capture_output=True, text=True, timeout=timeout)
    return out.stdout.strip()


# ---------------------------------------------------------------------------------------------
# ready


def cmd_ready(args):
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if args.pid:
            try:
                os.kill(args.pid, 0)
            except OSError:
                sys.exit(f"server (pid {args.pid}) exited before it was ready")
        try:
            c = connect(args.port, timeout=5)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"server on port {args.port} not ready after {args.timeout} s")


# ---------------------------------------------------------------------------------------------
# capture

RECORD = re.compile(r"^(?P<prefix>.*?)\b(?P<level>LOG|DETAIL|STATEMENT|ERROR|WARNING|HINT|CONTEXT|NOTICE|FATAL):  (?P<text>.*)$")
PID = re.compile(r"\[(\d+)\]")
EXECUTE = re.compile(r"^duration: (?P<ms>[0-9.]+) ms  execute [^:]*: (?P<sql>.*)$", re.S)
PARAM = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")


def log_records(path, offset, db):
    """The log records written after `offset` by sessions of `db`: (pid, level, text)."""
    with open(path, "rb") as f:
        f.seek(offset)
        raw = f.read().decode("utf-8", errors="replace")
    records = []
    for line in raw.split("\n"):
        m = RECORD.match(line)
        if m:
            pid = PID.search(m.group("prefix"))
            records.append([pid.group(1) if pid else "", m.group("level"), m.group("text"), m.group("prefix")])
        elif records:  # a continuation line of a multi-line statement
            records[-1][2] += "\n" + line
    # log_line_prefix names the session as user@database (%u@%d)
    return [(pid, level, text) for pid, level, text, prefix in records if f"@{db} " in prefix + " "]


def executed(records):
    """(duration ms, SQL, {n: literal}) of every executed statement, parameters attached."""
    out = []
    for i, (pid, level, text) in enumerate(records):
        if level != "LOG":
            continue
        m = EXECUTE.match(text)
        if not m:
            continue
        params = {}
        for pid2, level2, text2 in records[i + 1:i + 4]:
            if pid2 == pid and level2 == "DETAIL" and text2.startswith("parameters:"):
                params = {int(k): v for k, v in PARAM.findall(text2)}
                break
            if pid2 == pid and level2 == "LOG":
                break
        out.append((float(m.group("ms")), m.group("sql").strip(), params))
    return out


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


def substitute(sql, params):
    for k in sorted(params, reverse=True):
        sql = re.sub(r"\$%d(?!\d)" % k, lambda _m, v=typed(params[k]): v, sql)
    if re.search(r"\$\d", sql):
        raise ValueError("a placeholder was left without a logged value")
    return sql


def cmd_capture(args):
    conn = connect(args.port)
    token = login(conn)
    os.makedirs(args.out, exist_ok=True)
    for key, label, path, marker in QUERIES:
        offset = os.path.getsize(args.log)
        _, status, data = request(conn, "GET", path, token)
        if status != 200:
            sys.exit(f"{path}: HTTP {status}: {data[:300]!r}")
        found = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = [e for e in executed(log_records(args.log, offset, args.db)) if marker in e[1]]
            if found and found[-1][2]:
                break
            time.sleep(0.2)
        if not found:
            sys.exit(f"{path}: no statement containing {marker!r} in {args.log} (is log_min_duration_statement = 0 "
                     f"set on the database, and does log_line_prefix name the database with %d?)")
        ms, sql, params = max(found, key=lambda e: e[0])
        with open(os.path.join(args.out, f"{key}.sql"), "w") as f:
            f.write(substitute(sql, params) + ";\n")
        with open(os.path.join(args.out, f"{key}.logged.txt"), "w") as f:
            f.write(f"-- {path}: {ms} ms in the server's session\n{sql}\n-- parameters: "
                    + ", ".join(f"${k} = {v}" for k, v in sorted(params.items())) + "\n")
        log(f"captured {key} ({label}): {len(sql)} characters, {len(params)} parameters, {ms:.1f} ms")


# ---------------------------------------------------------------------------------------------
# time


def pgbench(db, script, transactions, workdir):
    """Per-transaction latencies (ms) of `transactions` runs of `script` on one connection."""
    prefix = os.path.join(workdir, "pgb")
    for fn in os.listdir(workdir):
        if fn.startswith("pgb."):
            os.remove(os.path.join(workdir, fn))
    subprocess.run([os.environ.get("PGBENCH", "pgbench"), *PG, "-n", "-M", "extended", "-c", "1", "-j", "1",
                    "-t", str(transactions), "-f", script, "--log", f"--log-prefix={prefix}", db],
                   check=True, capture_output=True, text=True, timeout=3600, cwd=workdir)
    lat = []
    for fn in sorted(os.listdir(workdir)):
        if fn.startswith("pgb."):
            with open(os.path.join(workdir, fn)) as f:
                for line in f:
                    cols = line.split()
                    if len(cols) >= 3:
                        lat.append(int(cols[2]) / 1000.0)  # column 3: latency in microseconds
            os.remove(os.path.join(workdir, fn))
    if len(lat) != transactions:
        raise RuntimeError(f"pgbench logged {len(lat)} of {transactions} transactions")
    return lat


def cmd_time(args):
    conn = connect(args.port)
    token = login(conn)
    work = tempfile.mkdtemp(prefix="pgb-", dir=args.sql)
    result = {"n": args.n, "warmup": args.warmup, "block": args.block, "queries": []}

    samples = []
    for _ in range(args.warmup):
        request(conn, "GET", FLOOR[2])
    for _ in range(args.n):
        ms, status, _ = request(conn, "GET", FLOOR[2])
        assert status == 200
        samples.append(ms)
    result["floor"] = {"key": FLOOR[0], "label": FLOOR[1], "path": FLOOR[2], "api": samples}

    for key, label, path, _ in QUERIES:
        script = os.path.join(args.sql, f"{key}.sql")
        started = time.monotonic()
        conn.close()  # may have idled out during the previous query's pgbench runs
        ms, status, data = request(conn, "GET", path, token)
        if status != 200:
            sys.exit(f"{path}: HTTP {status}: {data[:300]!r}")
        body = json.loads(data)
        shape = {"bytes": len(data), "items": len(body.get("items", []))}
        for _ in range(args.warmup - 1):
            request(conn, "GET", path, token)
        pgbench(args.db, script, args.warmup, work)  # warm-up, not recorded
        api, sql = [], []
        truncated = False
        while len(api) < args.n:
            k = min(args.block, args.n - len(api))
            # The server closes connections idle for 5 s (actix-web's keep-alive), as one may have
            # been while pgbench ran: each block opens a fresh connection with an untimed request.
            conn.close()
            request(conn, "GET", FLOOR[2])
            for _ in range(k):
                ms, status, _ = request(conn, "GET", path, token)
                if status != 200:
                    sys.exit(f"{path}: HTTP {status}")
                api.append(ms)
            # One extra transaction, dropped: the first on pgbench's fresh connection also loads
            # the catalog caches the server's pooled connections already hold.
            sql += pgbench(args.db, script, k + 1, work)[1:]
            if time.monotonic() - started > args.budget and len(api) < args.n:
                truncated = True
                log(f"{key}: time budget of {args.budget} s spent after {len(api)} samples each")
                break
        result["queries"].append({"key": key, "label": label, "path": path, "api": api, "sql": sql,
                                  "truncated": truncated, "response": shape,
                                  "seconds": round(time.monotonic() - started, 1)})
        log(f"{key} ({label}): n = {len(api)}, API p50 {pct(api, 50):.1f} ms, SQL p50 {pct(sql, 50):.1f} ms")
    with open(args.out, "w") as f:
        json.dump(result, f)


# ---------------------------------------------------------------------------------------------
# explain


def self_times(plan):
    """(exclusive ms, node, rows, loops) for every node of an EXPLAIN (ANALYZE, FORMAT JSON) plan,
    most expensive first. A node's time is summed over its loops, so nodes under a Gather count
    every parallel process (they overlap in wall time). A CTE runs as its CTE Scan pulls rows, so
    its time is taken out of that scan, not out of the node it hangs under."""
    cte = {}

    def total(node):
        return node.get("Actual Total Time", 0.0) * (node.get("Actual Loops", 1) or 1)

    def find_ctes(node):
        name = node.get("Subplan Name", "")
        if node.get("Parent Relationship") == "InitPlan" and name.startswith("CTE "):
            cte[name[4:]] = total(node)
        for c in node.get("Plans", []):
            find_ctes(c)

    out = []

    def walk(node):
        children = node.get("Plans", [])
        own = total(node) - sum(total(c) for c in children
                                if not (c.get("Parent Relationship") == "InitPlan"
                                        and c.get("Subplan Name", "").startswith("CTE ")))
        if node["Node Type"] == "CTE Scan":
            own -= cte.pop(node.get("CTE Name"), 0.0)
        what = node["Node Type"]
        for k in ("Relation Name", "Index Name", "CTE Name", "Subplan Name"):
            if k in node:
                what += f" {node[k]}"
        if "Group Key" in node:
            what += " by " + ", ".join(node["Group Key"])
        if node.get("Parent Relationship") == "SubPlan":
            what += " (per-row subplan)"
        loops = node.get("Actual Loops", 1) or 1
        out.append((max(0.0, own), what, node.get("Actual Rows", 0) * loops, loops))
        for c in children:
            walk(c)

    find_ctes(plan)
    walk(plan)
    return sorted(out, key=lambda t: -t[0])


def cmd_explain(args):
    text, summary = [], {}
    for key, label, path, _ in QUERIES:
        with open(os.path.join(args.sql, f"{key}.sql")) as f:
            sql = f.read().strip().rstrip(";")
        plan = psql(args.db, "EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + sql)
        js = json.loads(psql(args.db, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql))[0]
        top = self_times(js["Plan"])
        summary[key] = {"execution_ms": js.get("Execution Time"), "planning_ms": js.get("Planning Time"),
                        "jit_ms": (js.get("JIT") or {}).get("Timing", {}).get("Total"),
                        "top": [{"ms": round(t, 1), "node": w, "rows": r, "loops": l} for t, w, r, l in top[:5]]}
        text.append(f"== {key}: {label}: GET {path}\n-- the statement the server sent, its parameters as typed "
                    f"constants (bench/desk_bench.py capture)\n{sql};\n\n{plan}\n\n-- nodes by exclusive time "
                    f"(ms summed over loops and parallel processes, from a second EXPLAIN ANALYZE in JSON):\n"
                    + "\n".join(f"--   {t:9.1f}  {w}  (rows {r}, loops {l})" for t, w, r, l in top[:8]) + "\n")
    with open(args.out, "w") as f:
        f.write("\n".join(text))
    with open(args.json, "w") as f:
        json.dump(summary, f, indent=1)


# ---------------------------------------------------------------------------------------------
# report


def cmd_report(args):
    times = json.load(open(args.times))
    explain = json.load(open(args.explain_json))
    meta = json.load(open(args.meta))
    counts = {t: int(psql(args.db, f"SELECT count(*) FROM {t}"))
              for t in ["units", "plans", "plan_items", "assignments", "reports", "urges", "urge_assignments",
                        "assignment_standings"]}
    size = psql(args.db, "SELECT pg_size_pretty(pg_database_size(current_database()))")
    reports_size = psql(args.db, "SELECT pg_size_pretty(pg_total_relation_size('reports'))")
    standings_size = psql(args.db, "SELECT pg_size_pretty(pg_total_relation_size('assignment_standings'))")
    pg_version = psql(args.db, "SHOW server_version")
    settings = psql(args.db, "SELECT string_agg(name || ' = ' || setting || COALESCE(unit, ''), ', ' ORDER BY name) "
                             "FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'jit', "
                             "'max_parallel_workers_per_gather')")
    floor = times["floor"]["api"]
    f50, f99 = pct(floor, 50), pct(floor, 99)
    rows = []
    for q in times["queries"]:
        a, s = q["api"], q["sql"]
        rows.append((q, pct(a, 50), pct(a, 99), pct(s, 50), pct(s, 99)))

    def block_diffs(q):
        """API median minus SQL median in each block of samples taken side by side."""
        b = times["block"]
        return sorted(statistics.median(q["api"][i:i + b]) - statistics.median(q["sql"][i:i + b])
                      for i in range(0, len(q["api"]), b))

    L = []
    L.append("# The office's desk at scale (bench/desk.sh)")
    L.append("")
    L.append("The overdue list and the per-unit statistics over a generated year at the planned scale, on")
    L.append("PostgreSQL, through the API beside the same SQL timed directly in the same run. Run with")
    L.append("`bash bench/desk.sh` (`N=…` samples, `KEEP=1` keeps the database).")
    L.append("")
    L.append("## Machine and build")
    L.append("")
    L.append(f"- {meta['date']}; {meta['nproc']} cores ({meta['cpu']}), {meta['mem']} RAM; load average "
             f"{meta['load_before']} before the timings, {meta['load_after']} after.")
    L.append(f"- PostgreSQL {pg_version} on 127.0.0.1 (stock settings: {settings}).")
    L.append(f"- `target/release/duban` built {meta['binary_mtime']}; source at {meta['git']}.")
    L.append("")
    L.append("## Data (bench/desk-data.sql)")
    L.append("")
    L.append(f"{counts['units']:,} units, {counts['plans']} published plan with {counts['plan_items']:,} items "
             f"(8 sections, 44 tasks, 400 measures), {counts['assignments']:,} monthly assignments, "
             f"{counts['reports']:,} reports (2019-01 to 2019-10), {counts['urges']:,} urges linked to "
             f"{counts['urge_assignments']:,} assignments. Database {size} (reports with indexes {reports_size}); "
             f"generated in {meta['generate_s']} s.")
    L.append("")
    L.append(f"The SQL writes no standing: `duban standing backfill` then computed one for each assignment with the "
             f"server's rule (`store::standing::backfill`, `domain::standing::Standing::compute`), "
             f"{counts['assignment_standings']:,} rows ({standings_size} with indexes) in {meta['backfill_s']} s "
             f"(process start, migration check and the transaction included). Each is valid from its assignment's "
             f"creation, so a day in the past reads the standing the year ended with, not the one it had then: the "
             f"timings of a) to c) are those of the past-day query shape, their rows are not 2019's history.")
    L.append("")
    L.append("## Latency")
    L.append("")
    n = min(len(q["api"]) for q in times["queries"])
    L.append(f"One client, sequential requests over a keep-alive HTTP/1.1 connection, {times['warmup']} warm-up "
             f"requests, then n = {n} per query. The baseline is the statement the server sent for the same")
    L.append("request, captured from PostgreSQL's log with its parameters (as typed constants), run by")
    L.append("`pgbench -M extended` on one connection and read from its per-transaction log. API and SQL")
    L.append(f"samples alternate in blocks of {times['block']} so both see the same machine (each API block on a fresh")
    L.append("connection: the server drops connections idle for 5 s while pgbench runs).")
    L.append("")
    L.append("| query | API p50 ms | API p99 ms | SQL p50 ms | SQL p99 ms | API p50 / SQL p50 |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for q, a50, a99, s50, s99 in rows:
        note = " (time budget hit)" if q["truncated"] else ""
        L.append(f"| {q['key']}) {q['label']}: `GET {q['path'].replace('/api/v1', '')}`{note} | {a50:.1f} | {a99:.1f} "
                 f"| {s50:.1f} | {s99:.1f} | {a50 / s50:.2f} |")
    L.append(f"| {times['floor']['key']}) HTTP floor: `GET /healthz` | {f50:.2f} | {f99:.2f} | | | |")
    L.append("")
    L.append("Responses: " + "; ".join(f"{q['key']}) {q['response']['items']} items, {q['response']['bytes']:,} bytes"
                                       for q, *_ in rows) + ".")
    L.append("")
    L.append("## Where the time goes")
    L.append("")
    for q, a50, a99, s50, s99 in rows:
        e = explain[q["key"]]
        over = a50 - s50
        top = "; ".join(f"{t['node']} {t['ms']:.0f} ms" for t in e["top"][:3])
        jit = f", JIT {e['jit_ms']:.0f} ms" if e.get("jit_ms") else ""
        d = block_diffs(q)
        L.append(f"- **{q['key']}) {q['label']}**: API p50 minus SQL p50 {over:+.1f} ms ({a50 / s50:.2f}x; block by "
                 f"block {d[0]:+.0f} to {d[-1]:+.0f} ms). "
                 f"EXPLAIN ANALYZE (one run, per-node timing adds overhead): execution {e['execution_ms']:.0f} ms, "
                 f"planning {e['planning_ms']:.1f} ms{jit}; largest exclusive costs: {top}.")
    L.append("")
    ratios = [a50 / s50 for _, a50, _, s50, _ in rows]
    extra = [a50 - s50 for _, a50, _, s50, _ in rows]
    noise = all(block_diffs(q)[0] <= 0 <= block_diffs(q)[-1] for q, *_ in rows)
    if noise or max(ratios) < 1.02:
        L.append(f"Through the API each query costs {min(ratios):.2f} to {max(ratios):.2f} times its own SQL at the "
                 f"median ({min(extra):+.1f} to {max(extra):+.1f} ms), and block by block the difference swings both "
                 f"ways: the server's own share (the HTTP round trip alone is {f50:.2f} ms; then a pooled "
                 f"connection, decoding the rows, writing the JSON) is lost in the noise of a shared 2-core machine. "
                 f"The latency is PostgreSQL executing one statement, so a speed-up has to come from the SQL or its "
                 f"indexes, not from the server.")
    else:
        worst = rows[ratios.index(max(ratios))][0]
        L.append(f"The API adds {min(extra):+.1f} to {max(extra):+.1f} ms over its SQL at the median (worst: "
                 f"{worst['label']}, {max(ratios):.2f}x; the HTTP round trip alone is {f50:.2f} ms), beyond the "
                 f"block-by-block spread for at least one query: the server's own work (pool checkout, row "
                 f"decoding, JSON) is measurable there.")
    slow = [(q, s50) for q, _, _, s50, _ in rows if s50 >= 1000]
    for q, s50 in slow:
        e = explain[q["key"]]
        L.append("")
        L.append(f"{q['label'].capitalize()} takes {s50 / 1000:.1f} s at the median, over the one-second mark for "
                 f"an interactive page; its plan's largest exclusive cost is {e['top'][0]['node']} "
                 f"({e['top'][0]['ms']:.0f} ms of {e['execution_ms']:.0f} ms).")
    if args.notes:
        L.append("")
        L.append(args.notes.strip())
    L.append("")
    L.append("Plans with buffers: [desk-explain.txt](desk-explain.txt).")
    text = "\n".join(L).rstrip() + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ready")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--pid", type=int, default=0, help="give up early when this process has exited")
    p = sub.add_parser("capture")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("time")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--sql", required=True)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--block", type=int, default=4, help="API and SQL samples alternate in blocks of this size")
    p.add_argument("--budget", type=float, default=900, help="seconds per query, API and SQL together")
    p.add_argument("--out", required=True)
    p = sub.add_parser("explain")
    p.add_argument("--db", required=True)
    p.add_argument("--sql", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--json", required=True)
    p = sub.add_parser("report")
    p.add_argument("--db", required=True)
    p.add_argument("--times", required=True)
    p.add_argument("--explain-json", required=True)
    p.add_argument("--meta", required=True)
    p.add_argument("--notes", default="")
    p.add_argument("--out", required=True)
    args = ap.parse_args()
    {"ready": cmd_ready, "capture": cmd_capture, "time": cmd_time, "explain": cmd_explain,
     "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
