#!/usr/bin/env python3
"""Writes bench/RESULTS.md and the growth plot from the figures bench/run.sh left in a
directory (standard library only). Every verdict on the issue's targets is computed here from
the figures, never typed.

    python3 bench/report.py --dir bench/results/load --out bench/RESULTS.md --svg bench/results/growth.svg
"""

import argparse
import glob
import json
import math
import os
import re

PATHS = ["submit", "assignments", "report", "overdue", "stats"]
LABEL = {
    "submit": "create + submit a report (2 requests)",
    "assignments": "a unit's assignments, first page",
    "report": "a report by id",
    "overdue": "overdue page (limit 50)",
    "stats": "per-unit statistics",
}
READS = ["assignments", "report", "overdue"]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(x, digits=1):
    if x is None:
        return "—"
    if isinstance(x, float) and x >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def size_label(n):
    n = int(n)
    e = round(math.log10(n)) if n > 0 else 0
    return f"10^{e}" if 10 ** e == n else f"{n:,}"


class Figures:
    def __init__(self, d):
        self.d = d
        self.meta = load(os.path.join(d, "meta.json")) or {}
        self.runs = {}
        pat = re.compile(r"^(pg|sqlite)-(\d+)-(\w+)-c(\d+)\.(api|pgbench|least)\.json$")
        for f in glob.glob(os.path.join(d, "*.json")):
            m = pat.match(os.path.basename(f))
            if m:
                backend, size, sc, c, kind = m.groups()
                self.runs[(backend, int(size), sc, int(c), kind)] = load(f)
        self.sizes = sorted({k[1] for k in self.runs if k[0] == "pg"})
        self.conc = sorted({k[3] for k in self.runs if k[0] == "pg"})
        self.lite_sizes = sorted({k[1] for k in self.runs if k[0] == "sqlite"})
        self.login = None
        for f in sorted(glob.glob(os.path.join(d, "pg-*-login.api.json"))):
            self.login = (int(os.path.basename(f).split("-")[1]), load(f))

    def get(self, backend, size, sc, c, kind="api"):
        return self.runs.get((backend, size, sc, c, kind))


def ratio(a, b):
    if not a or not b or not b.get("throughput"):
        return None
    return a["throughput"] / b["throughput"]


def svg_growth(F, path):
    """p99 of each path against the number of reports, both axes logarithmic, at the lowest
    concurrency measured."""
    c = F.conc[0] if F.conc else None
    series = {}
    for sc in PATHS:
        pts = [(s, F.get("pg", s, sc, c)["p99_ms"]) for s in F.sizes if F.get("pg", s, sc, c)]
        if pts:
            series[sc] = pts
    W, H, L, R, T, B = 720, 420, 70, 190, 40, 50
    xs = [s for pts in series.values() for s, _ in pts] or [10000, 1000000]
    ys = [max(v, 0.01) for pts in series.values() for _, v in pts] or [1, 100]
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    if x1 == x0:
        x1 += 1
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if y1 == y0:
        y1 += 1

    def X(v):
        return L + (math.log10(v) - x0) / (x1 - x0) * (W - L - R)

    def Y(v):
        return H - B - (math.log10(max(v, 0.01)) - y0) / (y1 - y0) * (H - T - B)

    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="22" font-size="14">p99 latency per path vs reports (PostgreSQL, c={c}, '
         'log-log)</text>']
    for e in range(x0, x1 + 1):
        x = X(10 ** e)
        o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
        o.append(f'<text x="{x:.1f}" y="{H - B + 18}" text-anchor="middle">10^{e}</text>')
    for e in range(y0, y1 + 1):
        y = Y(10 ** e)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:g} ms</text>')
    o.append(f'<text x="{(L + W - R) / 2:.0f}" y="{H - 12}" text-anchor="middle">reports in the database</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
    for i, (sc, pts) in enumerate(series.items()):
        col = colours[i % len(colours)]
        d = " ".join(f"{X(s):.1f},{Y(v):.1f}" for s, v in pts)
        o.append(f'<polyline points="{d}" fill="none" stroke="{col}" stroke-width="2"/>')
        for s, v in pts:
            o.append(f'<circle cx="{X(s):.1f}" cy="{Y(v):.1f}" r="3" fill="{col}"><title>{sc} at {s}: '
                     f'p99 {v} ms</title></circle>')
        ly = T + 16 + i * 20
        o.append(f'<line x1="{W - R + 12}" y1="{ly - 4}" x2="{W - R + 32}" y2="{ly - 4}" stroke="{col}" stroke-width="2"/>')
        o.append(f'<text x="{W - R + 38}" y="{ly}">{sc}</text>')
    o.append("</svg>")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--svg", required=True)
    args = ap.parse_args()
    F = Figures(args.dir)
    m = F.meta
    svg_growth(F, args.svg)
    rel_svg = os.path.relpath(args.svg, os.path.dirname(os.path.abspath(args.out)))
    rel_dir = os.path.relpath(args.dir, os.path.dirname(os.path.abspath(args.out)))
    L = []
    L.append("# Load benchmark results")
    L.append("")
    L.append("Written by `bench/report.py` from the figures of `bench/run.sh` (see [README.md](README.md));")
    L.append(f"raw figures, the pgbench scripts captured from the server and the plans are in `{rel_dir}/`.")
    L.append("")
    L.append("## Machine and build")
    L.append("")
    L.append(f"- {m.get('date', '?')}; {m.get('nproc', '?')} cores ({m.get('cpu', '?')}), {m.get('mem', '?')} RAM, "
             "shared by the API, PostgreSQL and the load generator.")
    dirty = m.get("dirty", "0").strip()
    L.append(f"- Release build of commit `{m.get('commit', '?')}`"
             + (f" with {dirty} uncommitted file(s) under src/, migrations/, examples/ or Cargo.*" if dirty not in ("", "0") else "")
             + f"; {m.get('rustc', '')}.")
    L.append(f"- PostgreSQL {m.get('pg', '?')} on 127.0.0.1, stock settings; {m.get('pgbench', 'pgbench')}.")
    L.append(f"- Each run: {m.get('warmup', '?')} s warm-up, then {m.get('duration', '?')} s measured; "
             f"{m.get('accounts', '?')} service accounts (client i acts for account i mod N); "
             f"whole run {m.get('elapsed_s', '?')} s.")
    L.append("")
    L.append("## Data")
    L.append("")
    L.append("| database | units | assignments | reports | standings | size MB | generated in s | how |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for f in sorted(glob.glob(os.path.join(args.dir, "counts-*.json")), key=lambda p: (("sqlite" in p), int(re.findall(r"(\d+)\.json$", p)[0]))):
        label = os.path.basename(f)[len("counts-"):-len(".json")]
        c = load(f) or {}
        g = load(os.path.join(args.dir, f"gen-{label}.json")) or {}
        L.append(f"| {label} | {c.get('units', 0):,} | {c.get('assignments', 0):,} | {c.get('reports', 0):,} | "
                 f"{c.get('standings', 0):,} | {c.get('db_mb', '?')} | {g.get('seconds', '?')} | {g.get('how', '?')} |")
    L.append("")
    L.append("## API beside pgbench")
    L.append("")
    L.append("Throughput is operations per second (for submit an operation is the two requests, create then")
    L.append("submit; pgbench runs the same two transactions per operation). The baseline replays the statements")
    L.append("the server sent for one operation, captured from PostgreSQL's log, at the same concurrency and")
    L.append("duration; the ids that vary are drawn per operation by one primary-key lookup in a small")
    L.append("`loadbench` table, outside the transactions (a cost the API does not pay). For the desk,")
    L.append("*least work* is a hand-written indexed aggregate over the current standings, not the server's SQL.")
    L.append("")
    for size in F.sizes:
        L.append(f"### {size_label(size)} reports")
        L.append("")
        L.append("| path | c | API ops/s | API p50 ms | API p99 ms | errors | pgbench ops/s | pgbench p50 | pgbench p99 | API / pgbench | least work ops/s | least p99 ms |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for sc in PATHS:
            for c in F.conc:
                a, b, w = F.get("pg", size, sc, c), F.get("pg", size, sc, c, "pgbench"), F.get("pg", size, sc, c, "least")
                if not (a or b):
                    continue
                r = ratio(a, b)
                berr = ""
                if b and (b.get("aborted_clients") or b.get("exit")):
                    berr = f" (pgbench exit {b.get('exit')}, {b.get('aborted_clients')} aborted)"
                L.append(f"| {sc} | {c} | {fmt(a and a['throughput'])} | {fmt(a and a['p50_ms'], 2)} | "
                         f"{fmt(a and a['p99_ms'], 2)} | {a['error_count'] if a else '—'} | "
                         f"{fmt(b and b.get('throughput'))}{berr} | {fmt(b and b.get('p50_ms'), 2)} | "
                         f"{fmt(b and b.get('p99_ms'), 2)} | {fmt(r, 2)} | {fmt(w and w.get('throughput'))} | "
                         f"{fmt(w and w.get('p99_ms'), 2)} |")
        L.append("")
        metas = []
        for sc in PATHS:
            mt = load(os.path.join(args.dir, f"pg-{size}-{sc}.meta.json"))
            ex = load(os.path.join(args.dir, f"pg-{size}-{sc}.explain.json"))
            if mt:
                k = mt["kinds"]
                s = (f"{sc}: {mt['statements']} statements over {mt['requests']} request(s) ({k['prepared']} prepared, "
                     f"{k['unnamed']} unnamed, {k['simple']} simple), pgbench `-M {mt['mode']}`")
                if ex:
                    s += (f"; EXPLAIN ANALYZE: {ex['statements']} plans, execution {ex['execution_ms']} ms in all, "
                          f"slowest {ex['slowest_ms']} ms ([plans]({rel_dir}/pg-{size}-{sc}.explain.txt))")
                metas.append(s)
        if metas:
            L.append("Captured statements: " + "; ".join(metas) + ".")
            L.append("")
    # growth
    if F.sizes:
        c = F.conc[0]
        L.append(f"## Growth (PostgreSQL, c={c})")
        L.append("")
        L.append(f"![p99 per path vs size]({rel_svg})")
        L.append("")
        head = " | ".join(f"{size_label(s)} p50 / p99 ms" for s in F.sizes)
        L.append(f"| path | {head} | {size_label(F.sizes[-1])} / {size_label(F.sizes[0])} p50 | p99 |")
        L.append("| --- | " + " | ".join("---:" for _ in F.sizes) + " | ---: | ---: |")
        for sc in PATHS:
            cells, first, last = [], F.get("pg", F.sizes[0], sc, c), F.get("pg", F.sizes[-1], sc, c)
            for s in F.sizes:
                a = F.get("pg", s, sc, c)
                cells.append(f"{fmt(a['p50_ms'], 2)} / {fmt(a['p99_ms'], 2)}" if a else "—")
            r50 = last["p50_ms"] / first["p50_ms"] if first and last and first["p50_ms"] else None
            r99 = last["p99_ms"] / first["p99_ms"] if first and last and first["p99_ms"] else None
            L.append(f"| {sc} | " + " | ".join(cells) + f" | {fmt(r50, 2)} | {fmt(r99, 2)} |")
        L.append("")
    # sign-in
    login = F.login
    if login:
        size, d = login
        rss = d.get("rss_kb") or {}
        mb = lambda kb: None if kb is None else kb / 1024.0  # noqa: E731
        L.append(f"## Sign-in (PostgreSQL, {size_label(size)} reports)")
        L.append("")
        L.append(f"{d['concurrency']} clients sign in with a password at full rate while {d.get('me_clients', '?')} "
                 "clients time `GET /me`; before that, `GET /me` alone for half the time.")
        L.append("")
        L.append("| figure | value |")
        L.append("| --- | ---: |")
        L.append(f"| sign-ins/s | {fmt(d['logins']['throughput'])} (p50 {fmt(d['logins']['p50_ms'], 1)} ms, p99 {fmt(d['logins']['p99_ms'], 1)} ms, errors {d['logins']['error_count']}) |")
        L.append(f"| `GET /me` alone: req/s, p50, p99 | {fmt(d['me_alone']['throughput'])}, {fmt(d['me_alone']['p50_ms'], 2)} ms, {fmt(d['me_alone']['p99_ms'], 2)} ms |")
        L.append(f"| `GET /me` during sign-ins: req/s, p50, p99 | {fmt(d['me_during']['throughput'])}, {fmt(d['me_during']['p50_ms'], 2)} ms, {fmt(d['me_during']['p99_ms'], 2)} ms |")
        L.append(f"| RSS idle before / max during / 5 s after (MB) | {fmt(mb(rss.get('idle_before')))} / {fmt(mb(rss.get('max_during')))} / {fmt(mb(rss.get('after_5s')))} |")
        L.append("")
    # SQLite
    if F.lite_sizes:
        L.append("## SQLite (the embedded default)")
        L.append("")
        L.append("| reports | path | c | ops/s | p50 ms | p99 ms | max ms | errors |")
        L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for s in F.lite_sizes:
            for sc in PATHS:
                for c in sorted({k[3] for k in F.runs if k[0] == "sqlite"}):
                    a = F.get("sqlite", s, sc, c)
                    if a:
                        L.append(f"| {size_label(s)} | {sc} | {c} | {fmt(a['throughput'])} | {fmt(a['p50_ms'], 2)} | "
                                 f"{fmt(a['p99_ms'], 2)} | {fmt(a['max_ms'], 1)} | {a['error_count']} |")
        L.append("")
    # targets
    L.append("## The issue's targets, computed")
    L.append("")
    L.append("| target | figures | met |")
    L.append("| --- | --- | --- |")

    def verdict(ok):
        return "—" if ok is None else ("yes" if ok else "**no**")

    def ratios(sc):
        return [(s, c, ratio(F.get("pg", s, sc, c), F.get("pg", s, sc, c, "pgbench")))
                for s in F.sizes for c in F.conc if ratio(F.get("pg", s, sc, c), F.get("pg", s, sc, c, "pgbench"))]

    rs = ratios("submit")
    L.append(f"| create + submit ≥ 0.5 × pgbench | "
             + (", ".join(f"{size_label(s)} c={c}: {r:.2f}" for s, c, r in rs) or "not measured")
             + f" | {verdict(all(r >= 0.5 for *_, r in rs) if rs else None)} |")
    for sc in READS:
        rs = ratios(sc)
        L.append(f"| {sc} ≥ 0.7 × pgbench | "
                 + (", ".join(f"{size_label(s)} c={c}: {r:.2f}" for s, c, r in rs) or "not measured")
                 + f" | {verdict(all(r >= 0.7 for *_, r in rs) if rs else None)} |")
    big = 1000000
    for sc in ["overdue", "stats"]:
        # The issue measured these latencies one request at a time (c=1); the lowest
        # concurrency of the run stands in when c=1 was not run.
        c = min(F.conc, key=int) if F.conc else None
        a = F.get("pg", big, sc, c) if c else None
        base = F.get("pg", F.sizes[0], sc, c) if F.sizes and c else None
        if a and base and F.sizes[0] < big:
            ok = a["p99_ms"] < 50 and a["p99_ms"] <= 1.5 * base["p99_ms"]
            L.append(f"| {sc}: p99 < 50 ms at 10^6 and ≤ 1.5 × 10^4 (c={c}) | p99 {a['p99_ms']:.1f} ms at 10^6, "
                     f"{base['p99_ms']:.1f} ms at {size_label(F.sizes[0])} ({a['p99_ms'] / base['p99_ms']:.2f}×) | {verdict(ok)} |")
        else:
            have = ", ".join(f"{size_label(s)}: p99 {F.get('pg', s, sc, c)['p99_ms']:.1f} ms" for s in F.sizes
                             if c and F.get("pg", s, sc, c))
            L.append(f"| {sc}: p99 < 50 ms at 10^6 and ≤ 1.5 × 10^4 | not measured at 10^6 ({have or 'no runs'}) | — |")
    if login:
        d = login[1]
        p99 = d["me_during"]["p99_ms"]
        L.append(f"| `GET /me` p99 < 10 ms during sign-ins | {p99:.2f} ms | {verdict(p99 < 10)} |")
        rss = d.get("rss_kb") or {}
        if rss.get("max_during") is not None:
            mx, idle, after = rss["max_during"] / 1024, (rss.get("idle_before") or 0) / 1024, (rss.get("after_5s") or 0) / 1024
            ok = mx < 100 and after <= idle * 1.25 + 5
            L.append(f"| RSS < 100 MB under sign-in, back near idle after (≤ idle × 1.25 + 5 MB) | idle {idle:.0f} MB, "
                     f"max {mx:.0f} MB, after 5 s {after:.0f} MB | {verdict(ok)} |")
    else:
        L.append("| `GET /me` p99 < 10 ms during sign-ins | not measured | — |")
    all_runs = [v for k, v in F.runs.items() if k[4] == "api" and v]
    if login:
        all_runs += [login[1]["logins"], login[1]["me_alone"], login[1]["me_during"]]
    errs = sum(r.get("error_count", 0) for r in all_runs)
    fx = sum(r.get("five_xx", 0) for r in all_runs)
    L.append(f"| no errors and no 5xx during any run | {len(all_runs)} runs: {errs} errors, {fx} 5xx | "
             f"{verdict(errs == 0 and fx == 0) if all_runs else '—'} |")
    lite = [(s, F.get("sqlite", s, "submit", 16)) for s in F.lite_sizes if F.get("sqlite", s, "submit", 16)]
    if lite:
        s, a = lite[0]
        ok = a["throughput"] >= 500 and a["p99_ms"] < 50
        L.append(f"| SQLite: ≥ 500 submissions/s, p99 < 50 ms at c=16 | {size_label(s)} reports: {a['throughput']:.0f}/s, "
                 f"p99 {a['p99_ms']:.1f} ms | {verdict(ok)} |")
    else:
        L.append("| SQLite: ≥ 500 submissions/s, p99 < 50 ms at c=16 | not measured | — |")
    L.append("")
    # The webhook section: the last figures of bench/webhooks.py (results/webhooks.md) or, without
    # them, the section as it stood between its markers.
    begin, end = "<!-- webhooks -->", "<!-- /webhooks -->"
    hooks = os.path.join(os.path.dirname(os.path.abspath(args.out)), "results", "webhooks.md")
    old = open(args.out).read() if os.path.exists(args.out) else ""
    if os.path.exists(hooks):
        L += [begin, open(hooks).read().rstrip(), end]
    elif begin in old and end in old:
        L.append(old[old.index(begin):old.index(end) + len(end)])
    with open(args.out, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")
    print(f"wrote {args.out} and {args.svg}")


if __name__ == "__main__":
    main()
