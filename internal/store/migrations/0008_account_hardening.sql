-- API tokens expire (90 days by default, at most 365) and are listed per
-- account on the account page. Tokens made before this never expired: they
-- now expire 90 days after this migration, so their owners have time to
-- replace them.
ALTER TABLE api_tokens ADD COLUMN expires_at {{TIMESTAMP}};
-- sqlite only
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%d %H:%M:%S', 'now', '+90 days') || '+00:00' WHERE expires_at IS NULL;
-- end
-- postgres only
UPDATE api_tokens SET expires_at = now() + INTERVAL '90 days' WHERE expires_at IS NULL;
-- end
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
