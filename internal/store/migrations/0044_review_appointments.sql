-- Reviews at appointments (#13 with #12): a review held is linked to the
-- appointment it was held at, and the next review can be arranged at an
-- appointment already made with the person (its time and place become the
-- review's). One review per appointment. An id only, as contacts keep
-- theirs (0037): the support capability owns appointments, and forgetting
-- a person deletes each capability's rows in whatever order.
ALTER TABLE recovery_reviews ADD COLUMN appointment_id BIGINT;
CREATE UNIQUE INDEX recovery_reviews_one_per_appointment ON recovery_reviews (appointment_id) WHERE appointment_id IS NOT NULL;
