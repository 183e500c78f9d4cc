-- The working-day calendar (工作日历): public holidays and make-up working days (调休) as data
-- the office keeps, seeded once from seed/calendar-cn.csv (calendar_state.seeded).
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL,
    notice TEXT,
    updated_at TIMESTAMP NOT NULL
);

-- Derived from calendar_days by the calendar's own code whenever it changes (see
-- domain::calendar::Calendar::shifts): the running shift of every day from the first day that
-- shifts the working-day count to the last, so that SQL counts working days as the domain does.
CREATE TABLE calendar_shifts (
    day DATE PRIMARY KEY,
    shift INTEGER NOT NULL
);

CREATE TABLE calendar_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seeded BOOLEAN NOT NULL,
    shift_after INTEGER NOT NULL
);
INSERT INTO calendar_state (id, seeded, shift_after) VALUES (1, FALSE, 0);

-- A due date given as a number of working days after the assignment was made or its plan
-- published: kept so that the due date can be counted again when the calendar changes.
ALTER TABLE assignments ADD COLUMN due_working_days INTEGER
    CHECK (due_working_days IS NULL OR due_working_days BETWEEN 1 AND 3650);
ALTER TABLE assignments ADD COLUMN due_counted_from TEXT
    CHECK (due_counted_from IS NULL OR due_counted_from IN ('assignment', 'publication'));
CREATE INDEX assignments_due_working_days ON assignments (due_date)
    WHERE due_working_days IS NOT NULL;
