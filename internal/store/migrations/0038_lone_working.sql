-- Lone working (#12): a worker visiting someone at home or in the community
-- checks in and out. A visit not checked out by its expected end (ends_at)
-- plus the organisation's grace period (30 minutes unless set) raises a
-- lone-working alert to the worker's team's leads, once (lone_alert_at
-- claims it, so several instances running the job raise it once).
ALTER TABLE appointments ADD COLUMN checked_in_at {{TIMESTAMP}};
ALTER TABLE appointments ADD COLUMN checked_out_at {{TIMESTAMP}};
ALTER TABLE appointments ADD COLUMN lone_alert_at {{TIMESTAMP}};
CREATE INDEX appointments_visits_open ON appointments (ends_at) WHERE checked_out_at IS NULL AND lone_alert_at IS NULL;
ALTER TABLE support_settings ADD COLUMN grace_minutes INTEGER NOT NULL DEFAULT 30;

-- Where the duty lead responds to an alert (a referral, a visit).
ALTER TABLE alerts ADD COLUMN link TEXT NOT NULL DEFAULT '';
