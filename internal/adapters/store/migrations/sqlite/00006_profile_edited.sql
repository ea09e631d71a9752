-- +goose Up
-- edited: the owner has changed the profile (PATCH /users/me/profile) at
-- least once. Until then dating_gender follows gender (API.md §3). A
-- profile that differs from what registration gives is taken as edited.
ALTER TABLE profiles ADD COLUMN edited BOOLEAN NOT NULL DEFAULT 0;
UPDATE profiles SET edited = 1
WHERE min_distance <> 0 OR max_distance <> 50 OR min_dating_age <> 18 OR max_dating_age <> 50
   OR NOT vibration OR NOT only_matched OR NOT auto_play
   OR NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = profiles.user_id AND profiles.dating_city = u.city
                  AND profiles.dating_gender = CASE u.gender WHEN 'female' THEN 'male' ELSE 'female' END);

-- +goose Down
ALTER TABLE profiles DROP COLUMN edited;
