-- The head is keyed by (bucket, series_id, ts), bucket = ts - ts % 300 (store/head.py):
-- points posted in time order land in the few index pages of their five minutes instead
-- of one page per series, so a commit dirties (and logs) a few pages where it touched one
-- per point.
CREATE TABLE head_points (
    bucket BIGINT NOT NULL,
    series_id BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (bucket, series_id, ts)
);
INSERT INTO head_points (bucket, series_id, ts, value)
SELECT ts - ts % 300, series_id, ts, value FROM points ORDER BY 1, 2, 3;
DROP TABLE points;
ALTER TABLE head_points RENAME TO points;
ALTER INDEX head_points_pkey RENAME TO points_pkey;
