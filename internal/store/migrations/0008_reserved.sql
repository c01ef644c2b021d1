-- placeholder: replaced when the account-hardening branch lands
SELECT 1;
