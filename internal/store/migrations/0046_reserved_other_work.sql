-- Reserved for another change being built at the same time; replaced when merged.
SELECT 1;
