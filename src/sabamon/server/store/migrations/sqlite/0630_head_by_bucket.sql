-- The head is keyed by (bucket, series_id, ts), bucket = ts - ts % 300 (store/head.py):
-- points posted in time order land in the few pages of their five minutes instead of one
-- page per series, so a commit writes a few pages to the WAL where it wrote one per point.
CREATE TABLE head_points (
    bucket INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (bucket, series_id, ts)
) WITHOUT ROWID;
INSERT INTO head_points (bucket, series_id, ts, value)
SELECT ts - ts % 300, series_id, ts, value FROM points ORDER BY ts - ts % 300, series_id, ts;
DROP TABLE points;
ALTER TABLE head_points RENAME TO points;
