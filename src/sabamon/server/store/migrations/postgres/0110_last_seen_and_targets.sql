-- The newest point time of each host, any metric: what connectivity monitors judge by.
-- Kept by the point writes (one row per host per batch), filled here from the series.
CREATE TABLE host_last_seen (
    org_id TEXT NOT NULL,
    host_id TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, host_id)
);
INSERT INTO host_last_seen (org_id, host_id, seen_at)
SELECT org_id, owner, max(newest) FROM (
    SELECT s.org_id, s.owner, (SELECT max(p.ts) FROM points p WHERE p.series_id = s.id) AS newest
    FROM series s WHERE s.kind = 'host'
) AS latest WHERE newest IS NOT NULL GROUP BY org_id, owner;

-- A host's monitored statuses read its targets only.
CREATE INDEX alert_states_target ON alert_states (org_id, target);
