-- The series limit counts `series` in each worker (store/series.py, SeriesCounts) instead
-- of a row per organisation that triggers rewrote and every transaction creating series
-- locked until its commit: concurrent writers of new series no longer queue on it, and
-- its dead row versions are gone.
DROP TRIGGER series_counts_insert ON series;
DROP TRIGGER series_counts_delete ON series;
DROP FUNCTION series_counts_insert();
DROP FUNCTION series_counts_delete();
DROP TABLE series_counts;

-- Chunk rows up to about half a page keep their blob in the row instead of in TOAST,
-- whose 2-kB slices with their own row headers, index entries and partly filled pages
-- cost about 3 % more of the chunks' bytes (bench/storage.py); larger blobs (CPU
-- percentages at full precision) still go to TOAST, uncompressed (STORAGE EXTERNAL).
-- Existing chunks move when they are next rewritten.
ALTER TABLE chunks SET (toast_tuple_target = 4000);
