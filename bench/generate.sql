-- A year of supervision at the scale the product is planned for: 1,600 units, one published
-- plan (8 sections, 44 tasks, 400 measures), 100,000 monthly assignments (250 units per
-- measure, 4% leads) and 1,000,000 reports (ten monthly periods each, mostly sent, some drafts
-- and returned ones, 40% ending completed or not applicable). Run on an empty, migrated database.

INSERT INTO units (name, short_name, kind, active, created_at, updated_at)
SELECT '单位' || g, '单位' || g,
       CASE WHEN g = 1 THEN 'coordinating_office' WHEN g <= 111 THEN 'city_department'
            WHEN g <= 149 THEN 'district_government' ELSE 'other' END,
       TRUE, TIMESTAMP '2019-01-01', TIMESTAMP '2019-01-01'
FROM generate_series(1, 1600) g;

INSERT INTO plans (title, year, issuing_unit_id, state, created_at, updated_at, published_at)
VALUES ('2019年基准计划', 2019, 1, 'published', TIMESTAMP '2019-01-01', TIMESTAMP '2019-01-01', TIMESTAMP '2019-01-02');

INSERT INTO plan_items (plan_id, parent_id, level, code, number, title, position, created_at, updated_at)
SELECT 1, NULL, 'section', s::text, s::text, '板块' || s, s * 1000, TIMESTAMP '2019-01-01', TIMESTAMP '2019-01-01'
FROM generate_series(1, 8) s;

INSERT INTO plan_items (plan_id, parent_id, level, code, number, title, position, created_at, updated_at)
SELECT 1, sec.id, 'task', sec.code || '.' || (((t - 1) / 8) + 1), t::text, '任务' || t,
       sec.position + (((t - 1) / 8) + 1) * 20, TIMESTAMP '2019-01-01', TIMESTAMP '2019-01-01'
FROM generate_series(1, 44) t
JOIN plan_items sec ON sec.plan_id = 1 AND sec.level = 'section' AND sec.code = (((t - 1) % 8) + 1)::text;

INSERT INTO plan_items (plan_id, parent_id, level, code, number, title, position, lead_text, participant_text, created_at, updated_at)
SELECT 1, task.id, 'measure', task.code || '.' || (((m - 1) / 44) + 1), m::text, '具体措施' || m,
       task.position + ((m - 1) / 44) + 1, '牵头单位', '市级有关部门，区县政府按职责分工负责',
       TIMESTAMP '2019-01-01', TIMESTAMP '2019-01-01'
FROM generate_series(1, 400) m
JOIN plan_items task ON task.plan_id = 1 AND task.level = 'task' AND task.number = (((m - 1) % 44) + 1)::text;

INSERT INTO assignments (plan_id, measure_id, unit_id, role, via_group_id, due_date, cycle, created_at, updated_at)
SELECT 1, i.id, 2 + ((i.number::int * 37 + k * 7) % 1599),
       CASE WHEN k < 10 THEN 'lead' ELSE 'participant' END, NULL,
       CASE WHEN i.number::int % 5 = 0 THEN DATE '2019-06-30' + (i.number::int % 7) * 30 ELSE DATE '2019-12-31' END,
       'monthly', TIMESTAMP '2019-01-02', TIMESTAMP '2019-01-02'
FROM plan_items i CROSS JOIN generate_series(0, 249) k
WHERE i.plan_id = 1 AND i.level = 'measure';

INSERT INTO reports (assignment_id, unit_id, period, status, narrative, problems, next_steps, workflow,
                     return_reason, version, submitted_at, created_at, updated_at)
SELECT a.id, a.unit_id, '2019-' || lpad(p::text, 2, '0'),
       CASE WHEN p = 10 AND a.id % 5 < 2 THEN (CASE WHEN a.id % 2 = 0 THEN 'completed' ELSE 'not_applicable' END)
            ELSE 'in_progress' END,
       '第' || p || '月推进情况：按计划推进。', '', '',
       w.workflow,
       CASE WHEN w.workflow = 'returned' THEN '请补充具体数据。' END,
       1,
       CASE WHEN w.workflow = 'draft' THEN NULL
            ELSE make_date(2019, p, 1) + INTERVAL '1 month' + (a.id % 10) * INTERVAL '1 day' END,
       make_date(2019, p, 1) + INTERVAL '20 days', make_date(2019, p, 1) + INTERVAL '1 month' + (a.id % 10) * INTERVAL '1 day'
FROM assignments a
CROSS JOIN generate_series(1, 10) p
CROSS JOIN LATERAL (SELECT CASE WHEN (a.id + p) % 50 = 0 THEN 'draft' WHEN (a.id + p) % 47 = 0 THEN 'returned'
                                WHEN p < 9 THEN 'accepted' ELSE 'submitted' END AS workflow) w;

-- As autovacuum would have by now: sets the visibility map (index-only scans) and statistics.
VACUUM ANALYZE;
