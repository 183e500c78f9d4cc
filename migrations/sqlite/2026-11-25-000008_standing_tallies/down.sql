DROP TRIGGER standing_tallies_insert;
DROP TRIGGER standing_tallies_update_old;
DROP TRIGGER standing_tallies_update_new;
DROP TRIGGER standing_tallies_delete;
DROP TABLE standing_tallies;
