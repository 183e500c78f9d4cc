-- The overdue list as of a day in the past reads the versions in force then, in deadline order
-- (`s.valid_from < cut AND (s.valid_to IS NULL OR s.valid_to >= cut) AND s.deadline < day ORDER
-- BY s.deadline, a.id LIMIT n`): assignment_standings_deadline covers the current versions
-- only, so without this the whole table was scanned and sorted for one page.
CREATE INDEX assignment_standings_deadline_versions ON assignment_standings (deadline, assignment_id)
    WHERE deadline IS NOT NULL;
