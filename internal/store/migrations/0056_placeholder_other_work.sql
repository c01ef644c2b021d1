-- Placeholder for another line of work (not committed).
SELECT 1;
