#!/usr/bin/env python3
"""Derive duban's demo data, ``src/demo/plan_2019.csv``, from the seed report.

The seed (``../shared/seed/000_0011e335d6530479.txt``) is the plain-text export of a
real 2019 report by the Chongqing Intellectual Property Office.  After its narrative
comes the attachment table "2019年法治政府建设任务完成情况汇总" with the columns
工作任务 / 具体措施 / 任务来源 / 牵头单位 / 参加单位 / 工作措施及完成情况.  This
script parses that table and writes one CSV row per measure (133 rows, document
order); the CSV is the demo data duban ships (the 2019 plan with this office's
reported completion of every measure).

How the text encodes the table:

* every cell starts on a new line beginning with a TAB;
* a cell may continue on following lines that do not begin with a tab (typically a
  文号 broken as "渝委发" / "〔2016〕27号"); continuation lines are joined to the cell
  without any separator (Chinese has no spaces);
* rows are separated by blank lines, but a blank line also occurs inside one row
  (measure 58), so the parser works on the stream of cells and uses the shape of the
  table instead: a section cell (一、…), a task cell (1．…), an empty leading cell
  before a measure of an existing task, and a measure cell (（1）…) followed by exactly
  four cells: source, lead units, participating units, completion;
* Word bookmarks (``[bookmark: …]``) are not content and are removed;
* every cell is stripped of leading and trailing whitespace (a cell may be empty:
  measure 28 has no completion text, measure 83 no participating units).

Output: UTF-8 with a BOM (as duban's CSV export writes it), "\\n" line endings, csv.QUOTE_MINIMAL, header
工作板块,工作任务,具体措施,任务来源,牵头单位,参加单位,工作措施及完成情况.

Usage::

    python3 tools/derive_demo.py                # write src/demo/plan_2019.csv
    python3 tools/derive_demo.py --check        # exit 1 if the committed file differs
    python3 tools/derive_demo.py --seed PATH --out PATH

Relative default paths are resolved against the repository root (this script's parent
directory's parent).  The script asserts its invariants (8 sections, 44 tasks numbered
1..44, 133 measures numbered (1)..(133), 7 fields per row, no empty source cell) and
exits non-zero with a message when any of them fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = "../shared/seed/000_0011e335d6530479.txt"
DEFAULT_OUT = "src/demo/plan_2019.csv"

TABLE_HEADER = ["工作任务", "具体措施", "任务来源", "牵头单位", "参加单位", "工作措施及完成情况"]
CSV_HEADER = ["工作板块", "工作任务", "具体措施", "任务来源", "牵头单位", "参加单位", "工作措施及完成情况"]

EXPECTED_SECTIONS = 8
EXPECTED_TASKS = 44
EXPECTED_MEASURES = 133

CN_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}

BOOKMARK_RE = re.compile(r"\[bookmark: [^\]]*\]")
SECTION_RE = re.compile(r"^([一二三四五六七八九十])、\S")
TASK_RE = re.compile(r"^(\d+)．\S")
MEASURE_RE = re.compile(r"^（(\d+)）\S")
# One or more document numbers (文号), e.g. 渝委发〔2016〕27号, 国令第713号, joined by 、
DOC_NO = r"[^、〔〕\s]+(?:〔\d{4}〕\d+号|第\d+号)"
SOURCE_RE = re.compile(rf"^{DOC_NO}(?:、{DOC_NO})*$")


class SeedError(Exception):
    """The seed does not have the expected shape."""


def fail(msg: str) -> None:
    raise SeedError(msg)


def read_cells(text: str) -> list[tuple[int, str]]:
    """Split the table part of the seed into cells: (line number, text).

    A line beginning with a tab starts a cell; a non-blank line not beginning with a
    tab continues the current cell (joined without separator); blank or
    whitespace-only lines carry no content.  Only lines from the table header on are
    considered.
    """
    lines = text.split("\n")
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]

    # Locate the table header: six consecutive tab-cells equal to TABLE_HEADER.
    starts = [
        i
        for i in range(len(lines) - len(TABLE_HEADER) + 1)
        if [lines[i + k] for k in range(len(TABLE_HEADER))] == ["\t" + h for h in TABLE_HEADER]
    ]
    if len(starts) != 1:
        fail(f"expected exactly one table header, found {len(starts)}")
    start = starts[0]
    if any(ln.startswith("\t") for ln in lines[:start]):
        fail("tab-led lines before the table header")

    cells: list[list] = []
    for idx in range(start, len(lines)):
        line = lines[idx]
        lineno = idx + 1
        if line.startswith("\t"):
            body = line[1:]
            if "\t" in body:
                fail(f"line {lineno}: more than one tab in a line")
            cells.append([lineno, body])
        elif line.strip() == "":
            continue
        else:
            if not cells:
                fail(f"line {lineno}: continuation line before any cell")
            cells[-1][1] += line
    out = []
    for lineno, body in cells:
        body = BOOKMARK_RE.sub("", body)
        if "[bookmark" in body:
            fail(f"line {lineno}: malformed bookmark")
        out.append((lineno, body.strip()))
    return out


def parse(text: str) -> list[list[str]]:
    cells = read_cells(text)
    header = [c for _, c in cells[: len(TABLE_HEADER)]]
    if header != TABLE_HEADER:
        fail(f"unexpected table header {header}")
    pos = len(TABLE_HEADER)

    rows: list[list[str]] = []
    section = None
    task = None
    n_sections = n_tasks = 0
    tasks_in_section = measures_in_task = 0
    leader = None  # what led the next measure cell: "task", "empty" or None

    def close_task() -> None:
        if task is not None and measures_in_task == 0:
            fail(f"task {task!r} has no measures")

    def close_section() -> None:
        if section is not None and tasks_in_section == 0:
            fail(f"section {section!r} has no tasks")

    while pos < len(cells):
        lineno, cell = cells[pos]
        m_sec = SECTION_RE.match(cell)
        m_task = TASK_RE.match(cell)
        m_meas = MEASURE_RE.match(cell)
        if m_sec:
            close_task()
            close_section()
            n_sections += 1
            if CN_NUMERALS[m_sec.group(1)] != n_sections:
                fail(f"line {lineno}: section {cell!r} out of order (expected no. {n_sections})")
            section, task = cell, None
            tasks_in_section = 0
            pos += 1
            continue
        if m_task:
            if section is None:
                fail(f"line {lineno}: task before any section")
            close_task()
            n_tasks += 1
            if int(m_task.group(1)) != n_tasks:
                fail(f"line {lineno}: task {cell!r} out of order (expected {n_tasks})")
            task = cell
            tasks_in_section += 1
            measures_in_task = 0
            leader = "task"
            # a task row continues directly with its first measure
            if pos + 1 >= len(cells) or not MEASURE_RE.match(cells[pos + 1][1]):
                fail(f"line {lineno}: task row not followed by a measure cell")
            pos += 1
            continue
        if cell == "":
            # leading empty cell of a further measure of the current task
            if task is None or measures_in_task == 0:
                fail(f"line {lineno}: empty leading cell outside a task")
            if pos + 1 >= len(cells) or not MEASURE_RE.match(cells[pos + 1][1]):
                fail(f"line {lineno}: empty cell not followed by a measure cell")
            leader = "empty"
            pos += 1
            continue
        if m_meas:
            if task is None:
                fail(f"line {lineno}: measure before any task")
            # a measure cell is led either by its task's cell (first measure) or by
            # an empty cell (further measures); anything else means a lost cell
            if leader is None:
                fail(f"line {lineno}: measure not led by its task's cell or an empty cell (a cell is missing)")
            if (leader == "task") != (measures_in_task == 0):
                fail(f"line {lineno}: measure led by {leader} cell in the wrong place")
            leader = None
            number = int(m_meas.group(1))
            if number != len(rows) + 1:
                fail(f"line {lineno}: measure {cell[:20]!r} out of order (expected {len(rows) + 1})")
            fields = cells[pos + 1 : pos + 5]
            if len(fields) != 4:
                fail(f"line {lineno}: measure ({number}) has {len(fields)} cells after it, expected 4")
            source, lead, participants, completion = (c for _, c in fields)
            for fl, fc in fields:
                if SECTION_RE.match(fc) or TASK_RE.match(fc) or MEASURE_RE.match(fc):
                    fail(f"line {fl}: measure ({number}) row ends early at {fc[:20]!r}")
            if source == "":
                fail(f"line {fields[0][0]}: measure ({number}) has an empty source cell")
            if not SOURCE_RE.match(source):
                fail(f"line {fields[0][0]}: measure ({number}) source {source!r} is not a list of 文号")
            if lead == "":
                fail(f"line {fields[1][0]}: measure ({number}) has an empty lead cell")
            rows.append([section, task, cell, source, lead, participants, completion])
            measures_in_task += 1
            pos += 5
            continue
        fail(f"line {lineno}: unexpected cell {cell[:40]!r}")

    close_task()
    close_section()
    if n_sections != EXPECTED_SECTIONS:
        fail(f"expected {EXPECTED_SECTIONS} sections, found {n_sections}")
    if n_tasks != EXPECTED_TASKS:
        fail(f"expected {EXPECTED_TASKS} tasks, found {n_tasks}")
    if len(rows) != EXPECTED_MEASURES:
        fail(f"expected {EXPECTED_MEASURES} measures, found {len(rows)}")
    for i, row in enumerate(rows, start=1):
        if len(row) != len(CSV_HEADER):
            fail(f"row {i} has {len(row)} fields")
        if not row[2].startswith(f"（{i}）"):
            fail(f"row {i} is measure {row[2][:8]!r}")
        if any("\n" in f or "\t" in f or "[bookmark" in f for f in row):
            fail(f"row {i} contains a newline, tab or bookmark")
    return rows


def render(rows: list[list[str]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(CSV_HEADER)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8-sig")
    # Round-trip: what we wrote reads back as the same 134 records of 7 fields.
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    if back != [CSV_HEADER] + rows:
        fail("CSV does not read back identically")
    return data


def resolve(p: str) -> Path:
    path = Path(p)
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", default=DEFAULT_SEED, help=f"seed text (default {DEFAULT_SEED}, relative to the repository root)")
    ap.add_argument("--out", default=DEFAULT_OUT, help=f"CSV to write (default {DEFAULT_OUT}, relative to the repository root)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the file at --out differs from what the seed gives")
    args = ap.parse_args(argv)

    seed = resolve(args.seed)
    out = resolve(args.out)
    try:
        text = seed.read_text(encoding="utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        rows = parse(text)
        data = render(rows)
    except (OSError, SeedError) as e:
        print(f"derive_demo: {e}", file=sys.stderr)
        return 2

    if args.check:
        try:
            current = out.read_bytes()
        except OSError as e:
            print(f"derive_demo: {out}: {e}", file=sys.stderr)
            return 1
        if current != data:
            print(f"derive_demo: {out} differs from what {seed} gives; run tools/derive_demo.py", file=sys.stderr)
            return 1
        print(f"derive_demo: {out} is up to date ({len(rows)} measures)")
        return 0

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"derive_demo: wrote {len(rows)} measures to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
