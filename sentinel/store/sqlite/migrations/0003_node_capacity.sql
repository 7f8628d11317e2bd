-- Version 3: the capacity of the last heartbeat, as in the PostgreSQL
-- schema's version 3 (sentinel/store/migrations).
ALTER TABLE nodes ADD COLUMN capacity INTEGER NULL CHECK (capacity >= 0);
