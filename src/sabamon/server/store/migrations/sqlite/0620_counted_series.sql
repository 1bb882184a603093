-- The series limit counts `series` in each worker (store/series.py, SeriesCounts) instead
-- of a row per organisation that triggers rewrote on every new series. (PostgreSQL's
-- migration of the same number also keeps chunk blobs in their rows; SQLite has no TOAST.)
DROP TRIGGER series_counts_insert;
DROP TRIGGER series_counts_delete;
DROP TABLE series_counts;
