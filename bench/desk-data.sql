-- bench/desk-data.sql: a year of supervision at the scale the product is planned for, as plain
-- SQL over a freshly migrated PostgreSQL database (run by bench/desk.sh; about a minute).
--
--   units        1,600: the coordinating office, 110 city departments, 38 district governments
--                and 1,451 district departments (kind 'other');
--   plan         one published plan for 2019: 8 sections, 44 tasks, 400 measures (codes s.t.m,
--                the document's numbering: sections 一…八, tasks 1…44, measures 1…400);
--   assignments  100,000 = 400 measures x 250 units (10 city departments lead each measure,
--                1 in 25; 20 city departments and 220 district units take part), cycle monthly,
--                due 2019-12-31 for 70% of the measures, the end of a month from March to
--                November for the rest;
--   reports      1,000,000 = one per assignment and month, 2019-01 to 2019-10. Workflow: older
--                months almost all accepted, September and October partly still submitted,
--                drafts (8% of October) and returned / resubmitted ones (2-4%). Status in
--                progress; 40% of the assignments report completed (4 in 5) or not applicable
--                (1 in 5) from a month between May and October on. Sent in the last week of the
--                month (70%), 1-5 days after it (20%) or 6-25 days late (10%);
--   urges        ~2,000 reminders and urges about open assignments due before November, each
--                linked to its assignment.
--
-- Deterministic (hashes of ids, no random()), so every run builds the same rows. Every NOT NULL,
-- CHECK, UNIQUE and foreign key of the schema is enforced as the rows go in (no triggers are
-- disabled). Ends with VACUUM ANALYZE, so the planner has statistics and autovacuum has nothing
-- left to do while the benchmark runs.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

BEGIN;

INSERT INTO units (name, short_name, kind, active, created_at, updated_at)
SELECT name, short_name, kind, TRUE, TIMESTAMP '2018-12-01 08:00', TIMESTAMP '2018-12-01 08:00'
FROM (
    SELECT 0 AS ord, '重庆市全面依法治市委员会办公室' AS name, '市依法治市办' AS short_name, 'coordinating_office' AS kind
    UNION ALL
    SELECT g, '市级部门' || lpad(g::text, 3, '0'), '部门' || lpad(g::text, 3, '0'), 'city_department'
    FROM generate_series(1, 110) g
    UNION ALL
    SELECT 1000 + g, '区县' || lpad(g::text, 2, '0') || '人民政府', '区县' || lpad(g::text, 2, '0'), 'district_government'
    FROM generate_series(1, 38) g
    UNION ALL
    SELECT 2000 + g,
           '区县' || lpad((((g - 1) % 38) + 1)::text, 2, '0') || '部门' || lpad((((g - 1) / 38) + 1)::text, 2, '0'),
           NULL, 'other'
    FROM generate_series(1, 1451) g
) u
ORDER BY ord;

INSERT INTO plans (title, year, issuing_unit_id, state, created_at, updated_at, published_at)
SELECT '2019年全面依法治市工作要点', 2019, id, 'published',
       TIMESTAMP '2019-01-05 09:00', TIMESTAMP '2019-01-08 09:00', TIMESTAMP '2019-01-08 09:00'
FROM units WHERE kind = 'coordinating_office';

-- Sections 1-8; tasks 1-44 (6 in each of the first four sections, 5 in the others); measures
-- 1-400 (10 in each of the first four tasks, 9 in the others). Positions follow the document.
INSERT INTO plan_items (plan_id, parent_id, level, code, number, title, position, created_at, updated_at)
SELECT p.id, NULL, 'section', s::text, (ARRAY['一', '二', '三', '四', '五', '六', '七', '八'])[s],
       '工作板块' || s || '：依法全面履行政府职能，推进严格规范公正文明执法', s * 100000,
       TIMESTAMP '2019-01-05 09:00', TIMESTAMP '2019-01-05 09:00'
FROM plans p CROSS JOIN generate_series(1, 8) s;

INSERT INTO plan_items (plan_id, parent_id, level, code, number, title, position, created_at, updated_at)
SELECT sec.plan_id, sec.id, 'task', sec.code || '.' || x.idx, x.t::text,
       '深化第' || x.t || '项重点改革，完善配套制度。', sec.position + x.idx * 1000,
       TIMESTAMP '2019-01-05 09:00', TIMESTAMP '2019-01-05 09:00'
FROM (SELECT t,
             CASE WHEN t <= 24 THEN (t - 1) / 6 + 1 ELSE 5 + (t - 25) / 5 END AS s,
             CASE WHEN t <= 24 THEN (t - 1) % 6 + 1 ELSE (t - 25) % 5 + 1 END AS idx
      FROM generate_series(1, 44) t) x
JOIN plan_items sec ON sec.level = 'section' AND sec.code = x.s::text;

INSERT INTO plan_items (plan_id, parent_id, level, code, number, title, position, lead_text, participant_text,
                        created_at, updated_at)
SELECT task.plan_id, task.id, 'measure', task.code || '.' || x.idx, x.m::text,
       '落实第' || x.m || '项具体措施，' || repeat('明确责任分工和时间节点，', 1 + x.m % 4) || '按期报送完成情况。',
       task.position + x.idx, '市级有关部门', '市级有关部门，区县政府按职责分工负责',
       TIMESTAMP '2019-01-05 09:00', TIMESTAMP '2019-01-05 09:00'
FROM (SELECT m,
             CASE WHEN m <= 40 THEN (m - 1) / 10 + 1 ELSE 5 + (m - 41) / 9 END AS t,
             CASE WHEN m <= 40 THEN (m - 1) % 10 + 1 ELSE (m - 41) % 9 + 1 END AS idx
      FROM generate_series(1, 400) m) x
JOIN plan_items task ON task.level = 'task' AND task.number = x.t::text;

-- Dense positions 1..452 in document order, as the importer writes them.
UPDATE plan_items SET position = o.rn
FROM (SELECT id, row_number() OVER (ORDER BY position) AS rn FROM plan_items) o
WHERE plan_items.id = o.id;

-- 250 distinct units per measure: city departments at offsets 0..29 of a rotation (the first
-- 10 lead), district units at 220 steps of 6 through 1,489 (a prime, so no step repeats).
INSERT INTO assignments (plan_id, measure_id, unit_id, role, via_group_id, due_date, cycle, created_at, updated_at)
SELECT m.plan_id, m.id, x.unit_id, x.role, NULL,
       CASE WHEN m.n % 10 < 7 THEN DATE '2019-12-31'
            ELSE (make_date(2019, 3 + (m.n * 7) % 9, 1) + INTERVAL '1 month' - INTERVAL '1 day')::date END,
       'monthly', TIMESTAMP '2019-01-10 10:00', TIMESTAMP '2019-01-10 10:00'
FROM (SELECT id, plan_id, number::int AS n FROM plan_items WHERE level = 'measure') m
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM units WHERE kind = 'city_department') city
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM units WHERE kind IN ('district_government', 'other')) local
CROSS JOIN LATERAL (
    SELECT city.ids[1 + (m.n * 7 + k) % cardinality(city.ids)] AS unit_id,
           CASE WHEN k < 10 THEN 'lead' ELSE 'participant' END AS role
    FROM generate_series(0, 29) k
    UNION ALL
    SELECT local.ids[1 + (m.n * 37 + k * 6) % cardinality(local.ids)], 'participant'
    FROM generate_series(0, 219) k
) x
ORDER BY m.id, x.role, x.unit_id;

-- ha: per assignment (40% complete, from month 5 + ha % 6); hr: per report (workflow, length of
-- the text); hl: per report (when it was sent); hs: per report (6% of January's not started).
INSERT INTO reports (assignment_id, unit_id, period, status, narrative, problems, next_steps, workflow,
                     return_reason, version, created_by, updated_by, submitted_at, reviewed_at, reviewed_by,
                     created_at, updated_at)
SELECT a.id, a.unit_id, to_char(h.ms, 'YYYY-MM'), st.status,
       '第' || p || '月：' || CASE st.status
           WHEN 'completed' THEN '该项措施已全面完成，' WHEN 'not_applicable' THEN '我单位不涉及该项工作，'
           WHEN 'not_started' THEN '正在研究部署，' ELSE '按计划稳步推进，' END
           || repeat('组织开展专项检查并完善制度台账，', 1 + h.hr % 4) || '相关材料已归档。',
       CASE WHEN h.hr % 3 = 0 THEN '基层执法力量不足，信息化支撑有待加强。' ELSE '' END,
       CASE WHEN h.hr % 2 = 0 THEN '下一步将持续推进并按时报送进展。' ELSE '' END,
       wf.workflow,
       CASE WHEN wf.workflow = 'returned' THEN '请补充量化数据和佐证材料。' END,
       CASE wf.workflow WHEN 'draft' THEN 1 WHEN 'submitted' THEN 2 WHEN 'resubmitted' THEN 5 ELSE 3 END,
       NULL, NULL,
       CASE wf.workflow WHEN 'draft' THEN NULL WHEN 'resubmitted' THEN t.sent + INTERVAL '4 days' ELSE t.sent END,
       CASE wf.workflow WHEN 'accepted' THEN t.sent + (1 + h.hr % 5) * INTERVAL '1 day'
                        WHEN 'returned' THEN t.sent + INTERVAL '2 days'
                        WHEN 'resubmitted' THEN t.sent + INTERVAL '2 days' END,
       NULL,
       CASE WHEN wf.workflow = 'draft' THEN h.ms + INTERVAL '25 days 10 hours' ELSE t.sent - INTERVAL '2 days' END,
       CASE wf.workflow WHEN 'draft' THEN h.ms + INTERVAL '25 days 10 hours'
                        WHEN 'submitted' THEN t.sent
                        WHEN 'accepted' THEN t.sent + (1 + h.hr % 5) * INTERVAL '1 day'
                        ELSE t.sent + INTERVAL '4 days' END
FROM assignments a
CROSS JOIN generate_series(1, 10) p
CROSS JOIN LATERAL (SELECT abs(hashint8(a.id)) % 1000 AS ha,
                           abs(hashint8(a.id * 16 + p)) % 1000 AS hr,
                           abs(hashint8(a.id * 16 + p + 1000000007)) % 100 AS hl,
                           abs(hashint8(a.id * 16 + p + 2000000011)) % 1000 AS hs,
                           make_date(2019, p, 1) AS ms) h
CROSS JOIN LATERAL (SELECT CASE WHEN h.ha < 400 AND p >= 5 + h.ha % 6
                                THEN CASE WHEN (h.ha / 6) % 5 = 0 THEN 'not_applicable' ELSE 'completed' END
                                WHEN p = 1 AND h.hs < 60 THEN 'not_started'
                                ELSE 'in_progress' END AS status) st
CROSS JOIN LATERAL (SELECT CASE
        WHEN p = 10 THEN CASE WHEN h.hr < 80 THEN 'draft' WHEN h.hr < 110 THEN 'returned'
                              WHEN h.hr < 125 THEN 'resubmitted' WHEN h.hr < 450 THEN 'accepted' ELSE 'submitted' END
        WHEN p = 9 THEN CASE WHEN h.hr < 10 THEN 'draft' WHEN h.hr < 35 THEN 'returned'
                             WHEN h.hr < 55 THEN 'resubmitted' WHEN h.hr < 800 THEN 'accepted' ELSE 'submitted' END
        ELSE CASE WHEN h.hr < 4 THEN 'draft' WHEN h.hr < 24 THEN 'returned'
                  WHEN h.hr < 44 THEN 'resubmitted' WHEN h.hr < 985 THEN 'accepted' ELSE 'submitted' END
    END AS workflow) wf
CROSS JOIN LATERAL (SELECT h.ms + INTERVAL '1 month' - INTERVAL '1 day'
                           + (CASE WHEN h.hl < 70 THEN -(h.hl % 7) WHEN h.hl < 90 THEN 1 + h.hl % 5 ELSE 6 + (h.hl - 90) * 2 END) * INTERVAL '1 day'
                           + (9 + h.hl % 9) * INTERVAL '1 hour' + (h.hr % 60) * INTERVAL '1 minute' AS sent) t
ORDER BY p, a.id;  -- month by month, as they arrive: an assignment's reports lie far apart in the heap

-- Reminders (提醒), urges (催办) and supervision notices (督办) about open assignments due before
-- November, one assignment each; issued_at is unique per urge so the link can be joined back.
CREATE TEMP TABLE urge_src ON COMMIT DROP AS
SELECT a.id AS assignment_id, a.unit_id, a.due_date,
       TIMESTAMP '2019-11-04 09:00' + (row_number() OVER (ORDER BY a.id)) * INTERVAL '1 second' AS issued_at,
       abs(hashint8(a.id + 77)) % 10 AS h
FROM assignments a
WHERE a.due_date < DATE '2019-11-01' AND abs(hashint8(a.id)) % 1000 >= 400 AND a.id % 8 = 0;

INSERT INTO urges (unit_id, severity, message, reply_by, automatic, issued_by, issued_at,
                   acknowledged_at, acknowledged_by, reply, replied_at, replied_by)
SELECT s.unit_id, CASE WHEN s.h < 6 THEN 'reminder' WHEN s.h < 9 THEN 'urge' ELSE 'supervise' END,
       '请于回复期限前报送逾期事项的完成情况。', s.issued_at::date + 7, s.h < 6, NULL, s.issued_at,
       CASE WHEN s.h % 2 = 0 THEN s.issued_at + INTERVAL '1 day' END, NULL,
       CASE WHEN s.h % 4 = 0 THEN '已按要求督促落实，近期报送。' END,
       CASE WHEN s.h % 4 = 0 THEN s.issued_at + INTERVAL '2 days' END, NULL
FROM urge_src s ORDER BY s.issued_at;

INSERT INTO urge_assignments (urge_id, assignment_id)
SELECT u.id, s.assignment_id FROM urge_src s JOIN urges u ON u.unit_id = s.unit_id AND u.issued_at = s.issued_at;

COMMIT;

VACUUM (ANALYZE);
