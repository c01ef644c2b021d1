-- A trust record number that another person already holds is kept here
-- rather than refused: saying "someone else has this number" would tell
-- staff about a person they may not see. Someone who may see both people
-- is shown the two as a possible duplicate to resolve; caseload imports
-- keep linking the number to the person who held it first.
ALTER TABLE people ADD COLUMN trust_ref_pending TEXT NOT NULL DEFAULT '';
CREATE INDEX people_trust_ref_pending ON people (trust_ref_pending) WHERE trust_ref_pending <> '';
