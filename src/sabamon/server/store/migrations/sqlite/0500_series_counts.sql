-- Series per organisation, kept by triggers on `series`, so the series limit
-- (store/series.py, --max-series-per-org) reads one row instead of counting.
CREATE TABLE series_counts (
    org_id TEXT PRIMARY KEY,
    series INTEGER NOT NULL
);
INSERT INTO series_counts (org_id, series) SELECT org_id, count(*) FROM series GROUP BY org_id;
CREATE TRIGGER series_counts_insert AFTER INSERT ON series BEGIN
    INSERT INTO series_counts (org_id, series) VALUES (new.org_id, 1)
    ON CONFLICT (org_id) DO UPDATE SET series = series + 1; END;
CREATE TRIGGER series_counts_delete AFTER DELETE ON series BEGIN
    UPDATE series_counts SET series = series - 1 WHERE org_id = old.org_id; END;
