-- Contacts by support type (#12): what kind of support a contact gave (the
-- service evaluation's five: emotional, practical, social, specific to care,
-- specific to recovery; several may apply, as comma-separated codes), the
-- setting it happened in (the team's setting unless the worker says
-- otherwise), and the appointment it records, if any (an id only: the
-- support capability owns appointments).
ALTER TABLE contacts ADD COLUMN support_types TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN setting TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN appointment_id BIGINT;
