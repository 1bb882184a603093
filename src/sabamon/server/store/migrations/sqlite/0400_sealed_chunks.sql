-- Sealed chunks (store/seal.py): one series' window of points in one compressed blob.
-- step 60 holds raw points, with their hourly sums and counts in `hourly` (computed at
-- sealing, for reads of long spans); 300 and 3600 hold rollup sums (made when raw data
-- expires, or converted from the rollup tables). Points land in `points` (the head) and are
-- sealed once their hour is closed; `head_windows` lists the (hour, series) pairs the
-- head holds, so the compactor finds them without scanning the head.
CREATE TABLE chunks (
    series_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    start INTEGER NOT NULL,
    span INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    hourly BLOB,
    PRIMARY KEY (series_id, step, start)
);
CREATE INDEX chunks_step_start ON chunks (step, start);
CREATE INDEX chunks_open ON chunks (start) WHERE span < 86400;

-- Chunks that failed their checksum or decoding, moved aside as found (kept for an
-- operator; the window is sealed again from what the head still holds).
CREATE TABLE corrupt_chunks (
    series_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    start INTEGER NOT NULL,
    span INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    found_at INTEGER NOT NULL,
    PRIMARY KEY (series_id, step, start)
);

CREATE TABLE head_windows (
    hour INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    PRIMARY KEY (hour, series_id)
) WITHOUT ROWID;

-- The head as it stands: the hours the hourly rollups and the dirty marks know of, from
-- the oldest point on (`sabamon server migrate-series` checks every point as it seals).
INSERT INTO head_windows (hour, series_id)
SELECT bucket, series_id FROM rollup_3600 WHERE bucket >= (SELECT min(ts) - min(ts) % 3600 FROM points)
UNION
SELECT bucket - bucket % 3600, series_id FROM dirty_buckets;
