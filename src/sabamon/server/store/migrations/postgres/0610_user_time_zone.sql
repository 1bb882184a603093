-- The time zone a dashboard user chose (a zoneinfo name); NULL: the browser's own.
ALTER TABLE web_users ADD COLUMN time_zone TEXT;
