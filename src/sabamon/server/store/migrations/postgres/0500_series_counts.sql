-- Series per organisation, kept by triggers on `series`, so the series limit
-- (store/series.py, --max-series-per-org) reads one row instead of counting.
CREATE TABLE series_counts (
    org_id TEXT PRIMARY KEY,
    series BIGINT NOT NULL
);
INSERT INTO series_counts (org_id, series) SELECT org_id, count(*) FROM series GROUP BY org_id;
CREATE FUNCTION series_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO series_counts (org_id, series) VALUES (NEW.org_id, 1)
    ON CONFLICT (org_id) DO UPDATE SET series = series_counts.series + 1; RETURN NULL; END $$;
CREATE FUNCTION series_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    UPDATE series_counts SET series = series - 1 WHERE org_id = OLD.org_id; RETURN NULL; END $$;
CREATE TRIGGER series_counts_insert AFTER INSERT ON series
    FOR EACH ROW EXECUTE FUNCTION series_counts_insert();
CREATE TRIGGER series_counts_delete AFTER DELETE ON series
    FOR EACH ROW EXECUTE FUNCTION series_counts_delete();
