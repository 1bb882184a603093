-- Alert group settings (Mackerel's /api/v0/alert-group-settings), kept as JSON documents.
CREATE TABLE alert_group_settings (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX alert_group_settings_org ON alert_group_settings (org_id);
