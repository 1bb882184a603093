-- When the server received each check's latest report, so the check fast path reads only
-- the checks reported since its last pass (store/checks.py, alerts/engine.py).
ALTER TABLE check_monitors ADD COLUMN reported_at INTEGER;
CREATE INDEX check_monitors_reported ON check_monitors (org_id, reported_at);
