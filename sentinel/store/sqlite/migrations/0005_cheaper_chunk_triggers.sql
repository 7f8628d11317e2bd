-- Version 5 makes the PostgreSQL store's jobs_chunks triggers cheaper; the
-- SQLite store's change triggers already write only the key columns, so
-- its schema stays as it was.
SELECT 1;
