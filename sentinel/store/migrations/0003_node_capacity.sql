-- Extension: the capacity a node reported in its last heartbeat, how many
-- chunks at once it takes now (0 while paused or finishing). NULL: it
-- reports none (an original node), and only max_parallel and its cores
-- limit it.
ALTER TABLE nodes ADD COLUMN capacity integer NULL CHECK (capacity >= 0);
