-- Graph images of notifications, served without sign-in at /graphs/<token>.png: the key
-- is the SHA-256 of the random token, a row lives until expires_at (notify/images.py).
CREATE TABLE graph_images (
    token_digest TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    png BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX graph_images_expiry ON graph_images (expires_at);
