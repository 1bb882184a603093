-- Monitors, alerts and notifications. Definitions are kept as the validated JSON documents.
CREATE TABLE monitors (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX monitors_org ON monitors (org_id, type, name);

-- One row per (monitor, target): the state machine, and the last evaluated minute, which
-- makes a repeated evaluation of a minute a no-op.
CREATE TABLE alert_states (
    monitor_id TEXT NOT NULL,
    target TEXT NOT NULL,
    org_id TEXT NOT NULL,
    last_minute INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (monitor_id, target)
);
CREATE INDEX alert_states_org ON alert_states (org_id);

CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL,
    monitor_id TEXT NOT NULL,
    target TEXT NOT NULL,
    type TEXT NOT NULL,
    host_id TEXT,
    status TEXT NOT NULL,
    value REAL,
    message TEXT,
    reason TEXT,
    memo TEXT NOT NULL DEFAULT '',
    flap_count INTEGER NOT NULL DEFAULT 0,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE INDEX alerts_org ON alerts (org_id, seq);
CREATE INDEX alerts_open ON alerts (org_id, closed_at);

CREATE TABLE alert_logs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    alert_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    log_trigger TEXT NOT NULL,
    monitor_id TEXT,
    target_value REAL,
    status_detail TEXT
);
CREATE INDEX alert_logs_alert ON alert_logs (alert_id, seq);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX channels_org ON channels (org_id);

CREATE TABLE notification_groups (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notification_groups_org ON notification_groups (org_id);

CREATE TABLE downtimes (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX downtimes_org ON downtimes (org_id);

-- The delivery queue and log: one row per (channel, event), so an event is sent once.
CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    UNIQUE (channel_id, event_key)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_org ON deliveries (org_id, seq);
