-- +goose Up
-- edited: the owner has changed the profile (PATCH /users/me/profile) at
-- least once. Until then dating_gender follows gender (API.md §3). A
-- profile that differs from what registration gives is taken as edited.
ALTER TABLE profiles ADD COLUMN edited BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE profiles AS p JOIN users AS u ON u.id = p.user_id SET p.edited = TRUE
WHERE p.min_distance <> 0 OR p.max_distance <> 50 OR p.min_dating_age <> 18 OR p.max_dating_age <> 50
   OR NOT p.vibration OR NOT p.only_matched OR NOT p.auto_play OR p.dating_city <> u.city
   OR p.dating_gender <> CASE u.gender WHEN 'female' THEN 'male' ELSE 'female' END;

-- +goose Down
ALTER TABLE profiles DROP COLUMN edited;
