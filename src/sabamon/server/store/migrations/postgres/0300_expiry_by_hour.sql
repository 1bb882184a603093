-- Expiry by hour (see store/retention.py): the hourly rollups double as the record of
-- which series hold data in an hour, found through an index on the bucket; the daily
-- rollups expire through theirs. A cursor per table remembers how far expiry has gone.
CREATE INDEX rollup_3600_bucket ON rollup_3600 (bucket, series_id);
CREATE INDEX rollup_86400_bucket ON rollup_86400 (bucket);

CREATE TABLE expiry_cursors (
    tbl TEXT PRIMARY KEY,
    hour BIGINT NOT NULL,
    after_series BIGINT NOT NULL
);

-- Dirty marks are locked rather than rewritten now (store/series.py): no generation.
ALTER TABLE dirty_buckets DROP COLUMN gen;
