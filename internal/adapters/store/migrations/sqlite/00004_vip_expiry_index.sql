-- +goose Up
-- The periodic VIP-expiry sweep looks up expired rows by this column.
CREATE INDEX ix_users_vip_expires ON users (vip_expires_at);

-- +goose Down
DROP INDEX ix_users_vip_expires;
