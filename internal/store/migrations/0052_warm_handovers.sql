-- Warm handovers (#12). A handover meeting is an appointment with a second
-- peer worker, who is booked too: the incoming worker until the referral is
-- handed over to them, then the outgoing one (FollowMove swaps the two).
-- Neither worker may be double-booked (support takes both workers' locks,
-- in id order).
ALTER TABLE appointments ADD COLUMN handover_worker_id BIGINT REFERENCES users (id);
CREATE INDEX appointments_handover_worker ON appointments (handover_worker_id, starts_at);

-- Each allocation of a referral to a peer worker (from_worker_id: the worker
-- it came from, directly or by way of the waiting list; NULL for the first),
-- written by referral in the move's transaction. A worker's reads of
-- contacts others recorded before their latest allocation, when another
-- worker had the referral before them, obey the person's choice
-- (handover_sharing; access.HandoverHistory); so do the reads of a peer
-- worker who is not the referral's worker (its team's waiting list) once any
-- worker has had it. One row per allocation: a worker handed the referral a
-- second time is narrowed up to the second time.
CREATE TABLE referral_handovers (
    id {{ID}},
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    from_worker_id BIGINT REFERENCES users (id),
    to_worker_id BIGINT NOT NULL REFERENCES users (id),
    handed_over_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX referral_handovers_referral ON referral_handovers (referral_id, to_worker_id, handed_over_at);
-- The allocations made before this migration, as the first of each.
INSERT INTO referral_handovers (referral_id, person_id, from_worker_id, to_worker_id, handed_over_at)
    SELECT id, person_id, NULL, allocated_worker_id, COALESCE(allocated_at, updated_at) FROM referrals WHERE allocated_worker_id IS NOT NULL;
CREATE INDEX referral_handovers_person ON referral_handovers (person_id);

-- The person's choice of what a new peer worker sees of the contacts
-- recorded before they took over: all, summary (dates, modes and support
-- types, no note text) or none. No row: summary. Who chose, when, and on
-- whose say (the person from their account, or staff with the person's
-- agreement, in their words).
CREATE TABLE handover_sharing (
    referral_id BIGINT PRIMARY KEY REFERENCES referrals (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    share TEXT NOT NULL CHECK (share IN ('all', 'summary', 'none')),
    chosen_by_user_id BIGINT REFERENCES users (id),
    by_person BOOLEAN NOT NULL,
    agreement TEXT NOT NULL DEFAULT '',
    chosen_at {{TIMESTAMP}} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX handover_sharing_person ON handover_sharing (person_id);
