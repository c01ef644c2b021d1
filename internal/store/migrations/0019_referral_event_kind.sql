-- What a history event records (#10): '' a move between statuses or a note,
-- 'urgency' a change of urgency, 'risk' words of possible risk found. The
-- referral package validates it.
ALTER TABLE referral_events ADD COLUMN kind TEXT NOT NULL DEFAULT '';
