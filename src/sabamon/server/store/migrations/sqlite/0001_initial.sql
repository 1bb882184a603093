-- sabamon store schema, SQLite dialect. Text keys, JSON kept as TEXT, booleans as 0/1.
CREATE TABLE orgs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    key TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    can_write INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE hosts (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT,
    custom_identifier TEXT,
    size TEXT NOT NULL,
    status TEXT NOT NULL,
    memo TEXT NOT NULL,
    meta TEXT NOT NULL,
    interfaces TEXT NOT NULL,
    checks TEXT NOT NULL,
    is_retired INTEGER NOT NULL DEFAULT 0,
    retired_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX hosts_org ON hosts (org_id, is_retired, created_at);
CREATE INDEX hosts_custom_identifier ON hosts (org_id, custom_identifier);

CREATE TABLE services (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    memo TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE roles (
    org_id TEXT NOT NULL,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    memo TEXT NOT NULL,
    PRIMARY KEY (org_id, service, name)
);

CREATE TABLE host_roles (
    host_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    service TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (host_id, service, role)
);
CREATE INDEX host_roles_role ON host_roles (org_id, service, role);

CREATE TABLE graph_defs (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT,
    unit TEXT NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE check_monitors (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    host_id TEXT NOT NULL,
    name TEXT NOT NULL,
    memo TEXT NOT NULL DEFAULT '',
    status TEXT,
    message TEXT,
    occurred_at INTEGER,
    notification_interval INTEGER,
    max_check_attempts INTEGER,
    UNIQUE (host_id, name)
);
CREATE INDEX check_monitors_org ON check_monitors (org_id, id);

CREATE TABLE check_reports (
    host_id TEXT NOT NULL,
    name TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    PRIMARY KEY (host_id, name, occurred_at)
) WITHOUT ROWID;

CREATE TABLE metadata (
    org_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_key TEXT NOT NULL,
    namespace TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, owner_kind, owner_key, namespace)
);

CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, kind, owner, name)
);

CREATE TABLE points (
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE rollup_300 (
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    total REAL NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;

CREATE TABLE rollup_3600 (
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    total REAL NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;

CREATE TABLE rollup_86400 (
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    total REAL NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;

-- 5-minute buckets written since their last rollup; `gen` rises on every write so a
-- rollup only clears the marks it has seen.
CREATE TABLE dirty_buckets (
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    gen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
CREATE INDEX dirty_buckets_bucket ON dirty_buckets (bucket);
