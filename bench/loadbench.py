#!/usr/bin/env python3
"""Helpers of bench/run.sh (standard library only): the pgbench baseline of each load scenario,
built from the statements the server itself sent, and the plans of those statements.

    loadbench.py lookups --db DB --prefix bench-unit- --units K [--reports]
        (re)creates the schema `loadbench` in DB: the bench units (`units`), their assignments
        (`slots`) and, with --reports, their reports (`reports`), each numbered by `k`, plus the
        sequence `seq`: pgbench scripts draw the ids that vary from them.
    loadbench.py script --capture CAP.json --log PGLOG --db DB --out DIR
        turns the statements each captured request sent (bench load --capture) into
        DIR/<scenario>.pgbench (BEGIN/COMMIT kept, the varying ids replaced by variables) and
        DIR/<scenario>.explain.sql, and writes DIR/<scenario>.meta.json.
    loadbench.py pgbench --db DB --script F --mode prepared -c C -T SECS --warmup W --out F.json
        runs pgbench and writes the same figures the load generator prints.
    loadbench.py least --db DB --which overdue|stats --out DIR
        writes the least-work statement of a desk question as a pgbench script.
    loadbench.py explain --db DB --sql F.explain.sql --out F.txt --json F.json
        EXPLAIN (ANALYZE, BUFFERS) of every captured statement, in one rolled-back transaction.

Everything talks to 127.0.0.1 only and every wait is bounded.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pglog  # noqa: E402  (PostgreSQL log records, logged parameters, their types)

PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
PGBENCH = os.environ.get("PGBENCH", "pgbench")

# A statement in PostgreSQL's log: simple protocol, or the execute step of the extended one.
SIMPLE = re.compile(r"^duration: (?P<ms>[0-9.]+) ms  statement: (?P<sql>.*)$", re.S)
EXECUTE = re.compile(r"^duration: (?P<ms>[0-9.]+) ms  execute (?P<name>[^:]*): (?P<sql>.*)$", re.S)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def psql(db, sql, timeout=600):
    out = subprocess.run(["psql", *PG, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-Atc", sql, db],
                         check=True, capture_output=True, text=True, timeout=timeout)
    return out.stdout.strip()


# ---------------------------------------------------------------------------------------------
# lookups


def cmd_lookups(args):
    names = ", ".join(f"'{args.prefix}{k}'" for k in range(1, args.units + 1))
    sql = f"""
CREATE SCHEMA IF NOT EXISTS loadbench;
DROP TABLE IF EXISTS loadbench.units, loadbench.slots;
CREATE TABLE loadbench.units AS
    SELECT row_number() OVER (ORDER BY u.unit_id) AS k, u.unit_id AS u
    FROM (SELECT DISTINCT unit_id FROM users WHERE username IN ({names}) AND unit_id IS NOT NULL) u;
ALTER TABLE loadbench.units ADD PRIMARY KEY (k);
CREATE TABLE loadbench.slots AS
    SELECT row_number() OVER (ORDER BY a.id) AS k, a.id AS a, a.unit_id AS u
    FROM assignments a JOIN plans p ON p.id = a.plan_id
    WHERE a.unit_id IN (SELECT u FROM loadbench.units) AND p.state = 'published';
ALTER TABLE loadbench.slots ADD PRIMARY KEY (k);
CREATE SEQUENCE IF NOT EXISTS loadbench.seq;
ANALYZE loadbench.units;
ANALYZE loadbench.slots;
"""
    if args.reports:
        sql += """
DROP TABLE IF EXISTS loadbench.reports;
CREATE TABLE loadbench.reports AS
    SELECT row_number() OVER (ORDER BY r.id) AS k, r.id AS r, r.unit_id AS u
    FROM reports r WHERE r.unit_id IN (SELECT u FROM loadbench.units);
ALTER TABLE loadbench.reports ADD PRIMARY KEY (k);
ANALYZE loadbench.reports;
"""
    subprocess.run(["psql", *PG, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.db],
                   input="SET client_min_messages = warning;\n" + sql,
                   check=True, text=True, timeout=600, capture_output=True)
    counts = {t: int(psql(args.db, f"SELECT count(*) FROM loadbench.{t}"))
              for t in (["units", "slots"] + (["reports"] if args.reports else []))}
    log(f"lookups: {counts}")
    print(json.dumps(counts))


# ---------------------------------------------------------------------------------------------
# script


def statements(path, start, end, db):
    """(kind, name, ms, sql, params) of every statement of `db` logged in [start, end)."""
    with open(path, "rb") as f:
        f.seek(start)
        raw = f.read(end - start).decode("utf-8", errors="replace")
    records = pglog.records(raw, db)
    out = []
    for i, (pid, level, text) in enumerate(records):
        if level != "LOG":
            continue
        m = SIMPLE.match(text)
        if m:
            out.append(("simple", "", float(m.group("ms")), m.group("sql").strip(), {}))
            continue
        m = EXECUTE.match(text)
        if not m:
            continue
        params = {}
        for pid2, level2, text2 in records[i + 1:i + 4]:
            if pid2 == pid and level2 == "DETAIL" and text2.startswith("parameters:"):
                params = pglog.params(text2)
                break
            if pid2 == pid and level2 == "LOG":
                break
        name = m.group("name").strip()
        kind = "unnamed" if name == "<unnamed>" else "prepared"
        out.append((kind, name, float(m.group("ms")), m.group("sql").strip(), params))
    return out


# The lookup each scenario starts with, outside its transactions: the ids that vary.
LOOKUP = {
    "submit": ("SELECT s.a AS a, s.u AS u, lpad((1000 + n.k / {n} / 12)::text, 4, '0') || '-' || "
               "lpad((n.k / {n} % 12 + 1)::text, 2, '0') AS p "
               "FROM (SELECT nextval('loadbench.seq') AS k) n JOIN loadbench.slots s ON s.k = n.k % {n} + 1",
               "slots"),
    "assignments": ("SELECT u AS u FROM loadbench.units WHERE k = :k", "units"),
    "report": ("SELECT r AS r, u AS u FROM loadbench.reports WHERE k = :k", "reports"),
}
VAR = {"assignment": "a", "unit": "u", "report": "r", "period": "p"}


# The columns whose value is the varying id: a value equal to an id by chance (a version, a
# user id) elsewhere stays a constant.
COLUMNS = {
    "a": {"assignment_id", "assignments.id"},
    "u": {"unit_id", "actor_unit_id"},
    "r": {"report_id", "sent_report_id", "entity_id", "reports.id"},
    "p": {"period", "last_sent_period"},
}


def typed(literal):
    """A logged parameter as a typed constant: pglog.typed's reading of its shape, plus booleans
    (logged as 't' / 'f') and arrays."""
    if literal in ("'t'", "'f'"):
        return f"CAST({literal} AS boolean)"
    # An array, e.g. ANY($1) over states or ids (a JSON object such as an audit entry's detail,
    # with its quoted keys, is not one).
    if re.fullmatch(r"'\{[^'\":]*\}'", literal):
        inner = literal[2:-2]
        kind = "bigint" if inner and all(x.strip().lstrip("-").isdigit() for x in inner.split(",")) else "text"
        return f"CAST({literal} AS {kind}[])"
    return pglog.typed(literal)


def column_of(sql, k):
    """The column placeholder $k is compared with or written to, as `column` or `table.column`."""
    m = re.search(r'(?:"(\w+)"\.)?"(\w+)"\s*(?:=|>=|<=|<|>)\s*\$%d(?!\d)' % k, sql)
    if m:
        return f"{m.group(1)}.{m.group(2)}" if m.group(2) == "id" and m.group(1) else m.group(2)
    m = re.search(r'INSERT\s+INTO\s+"?\w+"?\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)', sql, re.I | re.S)
    if m:
        cols = [c.strip().strip('"') for c in m.group(1).split(",")]
        vals = [v.strip() for v in m.group(2).split(",")]
        if f"${k}" in vals and len(cols) == len(vals):
            return cols[vals.index(f"${k}")]
    return None


def cmd_script(args):
    cap = json.load(open(args.capture))
    scenario = cap["scenario"]
    values = {VAR[k]: str(v) for k, v in cap["vars"].items() if v is not None}
    lookup = LOOKUP.get(scenario)
    if lookup is None:
        values = {}  # the office's questions: nothing varies
    elif scenario != "submit":
        values.pop("a", None)
        values.pop("p", None)
    if scenario == "assignments":
        values.pop("r", None)
    bench = [f"-- {scenario}: the statements the server sent for "
             + ", ".join(f"{r['method']} {r['path']}" for r in cap["requests"])
             + f" (captured as {cap['account']}), one HTTP request after the other."]
    explain = ["\\set ON_ERROR_STOP on", "SET client_min_messages = warning;"]
    kinds = {"simple": 0, "prepared": 0, "unnamed": 0}
    listed = []
    subs = {}
    if lookup:
        n = int(psql(args.db, f"SELECT count(*) FROM loadbench.{lookup[1]}"))
        if n == 0:
            sys.exit(f"{scenario}: loadbench.{lookup[1]} is empty")
        q = lookup[0].format(n=n)
        if ":k" in q:
            bench.append(f"\\set k random(1, {n})")
            explain.append("\\set k 1")
        bench.append(f"{q} \\gset")
        explain.append(f"{q} \\gset")
    explain.append("BEGIN;")
    report_known = scenario != "submit"  # in submit the report id is the created draft's
    for i, req in enumerate(cap["requests"]):
        found = statements(args.log, req["log_from"], req["log_to"], args.db)
        if not found:
            sys.exit(f"{scenario}: no statement of {args.db} logged for {req['method']} {req['path']}"
                     f" (log bytes {req['log_from']}-{req['log_to']}; is log_min_duration_statement = 0 set?)")
        bench.append(f"-- request {i + 1}: {req['method']} {req['path']} -> {req['status']}, "
                     f"{len(found)} statements")
        for kind, name, ms, sql, params in found:
            kinds[kind] += 1
            listed.append({"request": i + 1, "kind": kind, "ms": ms, "sql": sql, "params": params})
            typed_b, typed_e = {}, {}
            for k, v in params.items():
                lit = v[1:-1] if v != "NULL" else None
                col = column_of(sql, k)
                var = next((name for name, val in values.items()
                            if lit == val and col in COLUMNS[name] and (name != "r" or report_known)), None)
                if var:
                    t = typed(v)
                    typed_b[k] = t.replace(v, f":{var}")
                    typed_e[k] = t.replace(v, f":'{var}'")
                    subs.setdefault(var, set()).add(sql.split()[0].upper())
                else:
                    typed_b[k] = typed_e[k] = typed(v)
            body_b, body_e = sql, sql
            for k in sorted(params, reverse=True):
                body_b = re.sub(r"\$%d(?!\d)" % k, lambda _m, t=typed_b[k]: t, body_b)
                body_e = re.sub(r"\$%d(?!\d)" % k, lambda _m, t=typed_e[k]: t, body_e)
            if re.search(r"\$\d", body_b):
                sys.exit(f"{scenario}: a placeholder was left without a logged value in: {sql[:200]}")
            returns_report = (scenario == "submit" and not report_known
                              and re.match(r'\s*INSERT\s+INTO\s+"?reports"?\s', sql, re.I)
                              and "RETURNING" in sql.upper())
            body_b = body_b.rstrip().rstrip(";")
            body_e = body_e.rstrip().rstrip(";")
            if returns_report:
                # The draft's id, as the server got it back, for the statements that follow.
                bench.append(re.sub(r"RETURNING .*$", 'RETURNING "reports"."id" AS r', body_b, flags=re.S | re.I)
                             + " \\gset")
                explain.append(f"EXPLAIN (ANALYZE, BUFFERS) {body_e};")
                explain.append("SELECT lastval() AS r \\gset")
                report_known = True
                values["r"] = str(cap["vars"]["report"])
                continue
            bench.append(body_b + ";")
            head = body_e.lstrip().split()[0].upper() if body_e.strip() else ""
            if head in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH") and body_e.strip() != "SELECT 1":
                explain.append(f"-- request {i + 1}")
                explain.append(f"EXPLAIN (ANALYZE, BUFFERS) {body_e};")
    explain.append("ROLLBACK;")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{scenario}.pgbench"), "w") as f:
        f.write("\n".join(bench) + "\n")
    with open(os.path.join(args.out, f"{scenario}.explain.sql"), "w") as f:
        f.write("\n".join(explain) + "\n")
    mode = "prepared" if kinds["prepared"] >= kinds["unnamed"] else "extended"
    meta = {"scenario": scenario, "requests": len(cap["requests"]), "statements": len(listed), "kinds": kinds,
            "mode": mode, "substituted": {k: sorted(v) for k, v in subs.items()},
            "lookup": bool(lookup), "listed": listed}
    with open(os.path.join(args.out, f"{scenario}.meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    log(f"{scenario}: {len(listed)} statements over {len(cap['requests'])} request(s) ({kinds}); pgbench -M {mode}; "
        f"varying: {meta['substituted']}")


# ---------------------------------------------------------------------------------------------
# pgbench


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))] if s else 0.0


def cmd_pgbench(args):
    work = tempfile.mkdtemp(prefix="pgb-")
    prefix = os.path.join(work, "tx")
    total = args.warmup + args.duration
    cmd = [PGBENCH, *PG, "-n", "-M", args.mode, "-c", str(args.clients), "-j", str(min(args.clients, args.threads)),
           "-T", str(int(round(total))), "-f", args.script, "--log", f"--log-prefix={prefix}", args.db]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=total + 120)
    rows = []
    for fn in glob.glob(prefix + ".*"):
        with open(fn) as f:
            for line in f:
                c = line.split()
                if len(c) >= 6 and c[2].isdigit():
                    end = int(c[4]) + int(c[5]) / 1e6
                    rows.append((end - int(c[2]) / 1e6, int(c[2]) / 1000.0))
        os.remove(fn)
    os.rmdir(work)
    aborted = len(re.findall(r"aborted in command|client \d+ aborted", p.stderr))
    result = {"scenario": args.label, "concurrency": args.clients, "mode": args.mode, "warmup_s": args.warmup,
              "duration_s": args.duration, "exit": p.returncode, "aborted_clients": aborted,
              "stderr": p.stderr[-2000:] if p.returncode or aborted else ""}
    if rows:
        t0 = min(s for s, _ in rows)
        keep = [ms for s, ms in rows if t0 + args.warmup <= s < t0 + args.warmup + args.duration]
        result.update({"ops": len(keep), "throughput": round(len(keep) / args.duration, 3),
                       "p50_ms": round(pct(keep, 50), 3), "p90_ms": round(pct(keep, 90), 3),
                       "p99_ms": round(pct(keep, 99), 3), "max_ms": round(max(keep, default=0), 3)})
    else:
        result.update({"ops": 0, "throughput": 0.0})
    if p.returncode or aborted:
        log(f"pgbench {args.label} c={args.clients}: exit {p.returncode}, {aborted} aborted: {p.stderr[-600:]}")
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "stderr"}))


# ---------------------------------------------------------------------------------------------
# the least work a desk question needs

LEAST = {
    # The first page of overdue assignments today: the partial index on the current standing's
    # deadline, read in order, 51 entries.
    "overdue": "SELECT s.assignment_id, s.unit_id, s.deadline FROM assignment_standings s "
               "WHERE s.valid_to IS NULL AND s.deadline IS NOT NULL AND s.deadline < CURRENT_DATE "
               "ORDER BY s.deadline, s.assignment_id LIMIT 51;",
    # Per-unit counts by phase over the current standings, nothing else joined.
    "stats": "SELECT s.unit_id, count(*) AS assigned, "
             "count(*) FILTER (WHERE s.sent_report_id IS NOT NULL) AS reported, "
             "count(*) FILTER (WHERE s.phase = 'not_started') AS not_started, "
             "count(*) FILTER (WHERE s.phase = 'in_progress') AS in_progress, "
             "count(*) FILTER (WHERE s.phase = 'completed') AS completed, "
             "count(*) FILTER (WHERE s.phase = 'not_applicable') AS not_applicable, "
             "count(*) FILTER (WHERE s.deadline < CURRENT_DATE) AS overdue "
             "FROM assignment_standings s WHERE s.valid_to IS NULL GROUP BY s.unit_id;",
}


def cmd_least(args):
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{args.which}.least.pgbench")
    with open(path, "w") as f:
        f.write(f"-- {args.which}: the least work the question needs (hand-written, not the server's SQL)\n"
                + LEAST[args.which] + "\n")
    with open(os.path.join(args.out, f"{args.which}.least.explain.sql"), "w") as f:
        f.write("EXPLAIN (ANALYZE, BUFFERS) " + LEAST[args.which] + "\n")
    print(path)


# ---------------------------------------------------------------------------------------------
# explain

PLAN_TIME = re.compile(r"(Planning|Execution) Time: ([0-9.]+) ms")


def cmd_explain(args):
    p = subprocess.run(["psql", *PG, "-X", "-d", args.db, "-f", args.sql], capture_output=True, text=True,
                       timeout=args.timeout)
    text = f"-- {os.path.basename(args.sql)}\n" + p.stdout + (("\n-- errors:\n" + p.stderr) if p.stderr.strip() else "")
    with open(args.out, "w") as f:
        f.write(text)
    plans = []
    cur = {}
    for kind, ms in PLAN_TIME.findall(p.stdout):
        cur[kind.lower() + "_ms"] = float(ms)
        if kind == "Execution":
            plans.append(cur)
            cur = {}
    summary = {"statements": len(plans), "execution_ms": round(sum(x.get("execution_ms", 0) for x in plans), 3),
               "planning_ms": round(sum(x.get("planning_ms", 0) for x in plans), 3),
               "slowest_ms": round(max((x.get("execution_ms", 0) for x in plans), default=0), 3),
               "ok": p.returncode == 0}
    with open(args.json, "w") as f:
        json.dump(summary, f)
    log(f"explain {os.path.basename(args.sql)}: {summary}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lookups")
    p.add_argument("--db", required=True)
    p.add_argument("--prefix", default="bench-unit-")
    p.add_argument("--units", type=int, required=True)
    p.add_argument("--reports", action="store_true")
    p = sub.add_parser("script")
    p.add_argument("--capture", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("pgbench")
    p.add_argument("--db", required=True)
    p.add_argument("--script", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--mode", default="prepared", choices=["simple", "extended", "prepared"])
    p.add_argument("-c", "--clients", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("-T", "--duration", type=float, required=True)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--out", required=True)
    p = sub.add_parser("least")
    p.add_argument("--which", required=True, choices=sorted(LEAST))
    p.add_argument("--out", required=True)
    p = sub.add_parser("explain")
    p.add_argument("--db", required=True)
    p.add_argument("--sql", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    {"lookups": cmd_lookups, "script": cmd_script, "pgbench": cmd_pgbench, "least": cmd_least,
     "explain": cmd_explain}[args.cmd](args)


if __name__ == "__main__":
    main()
