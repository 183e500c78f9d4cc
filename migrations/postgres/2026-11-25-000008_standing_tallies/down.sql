DROP TRIGGER standing_tallies ON assignment_standings;
DROP FUNCTION standing_tally();
DROP TABLE standing_tallies;
