-- +goose Up
-- photo_count: the size of the user's album, kept by the photo writes in
-- their transaction. The deck index holds it, so a deck reads albums only
-- of users who have photos (and the change stamps the row).
ALTER TABLE users ADD COLUMN photo_count INT NOT NULL DEFAULT 0;
UPDATE users SET photo_count = (SELECT COUNT(*) FROM photos WHERE photos.user_id = users.id)
WHERE EXISTS (SELECT 1 FROM photos WHERE photos.user_id = users.id);

-- +goose Down
ALTER TABLE users DROP COLUMN photo_count;
