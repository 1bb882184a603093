-- Dashboard users and their sign-in sessions (the session key is the SHA-256 of the token).
CREATE TABLE web_users (
    name TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE web_sessions (
    token_digest TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES web_users (name) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_name);
