-- One contact records one appointment: two "record what happened" for the
-- same appointment at once (a double submit, or the worker and their lead)
-- must not both count. Any duplicate already written keeps its contact but
-- loses the link, the earliest contact keeping it, so the index can be made.
UPDATE contacts SET appointment_id = NULL
WHERE appointment_id IS NOT NULL
  AND id > (SELECT MIN(c2.id) FROM contacts c2 WHERE c2.appointment_id = contacts.appointment_id);
CREATE UNIQUE INDEX contacts_one_per_appointment ON contacts (appointment_id) WHERE appointment_id IS NOT NULL;
