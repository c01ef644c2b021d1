-- Endings (#12): whether peer support ended as planned with the person or
-- not, and the person's own words about what helped (written with their
-- worker at the ending, or added later from their own account). The coded
-- reason stays in status_reason, so "endings by reason" counts as before.
ALTER TABLE referrals ADD COLUMN ending TEXT NOT NULL DEFAULT '' CHECK (ending IN ('', 'planned', 'unplanned'));
ALTER TABLE referrals ADD COLUMN what_helped TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN what_helped_at {{TIMESTAMP}};
