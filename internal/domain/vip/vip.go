// Package vip holds the VIP levels and their permissions (API.md §3 VIP).
package vip

import "time"

// Permissions.
const (
	PermVIPFlag       = "vipflag"
	PermSuperlike     = "superlike"
	PermRewind        = "rewind"
	PermWhoLikedMe    = "who_liked_me"
	PermUnlimitedLike = "unlimited_like"
	PermAnyLocation   = "any_location"
)

// MaxLevel is the highest VIP level.
const MaxLevel = 3

// Plan is one VIP level.
type Plan struct {
	Level       int      `json:"level"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// Plans returns the levels 0-3 with their cumulative permissions.
func Plans() []Plan {
	return []Plan{
		{Level: 0, Name: "非会员", Permissions: []string{}},
		{Level: 1, Name: "青铜会员", Permissions: []string{PermVIPFlag, PermSuperlike}},
		{Level: 2, Name: "白银会员", Permissions: []string{PermVIPFlag, PermSuperlike, PermRewind}},
		{Level: 3, Name: "黄金会员", Permissions: []string{PermVIPFlag, PermSuperlike, PermRewind, PermWhoLikedMe, PermUnlimitedLike, PermAnyLocation}},
	}
}

// Effective is the level in force at now: an expired VIP is level 0.
func Effective(level int, expiresAt *time.Time, now time.Time) int {
	if level <= 0 || level > MaxLevel {
		return 0
	}
	if expiresAt == nil || !now.Before(*expiresAt) {
		return 0
	}
	return level
}

// Has reports whether level grants perm.
func Has(level int, perm string) bool {
	if level < 0 || level > MaxLevel {
		return false
	}
	for _, p := range Plans()[level].Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// PlanOf returns the plan of level (level 0 for anything out of range).
func PlanOf(level int) Plan {
	if level < 0 || level > MaxLevel {
		level = 0
	}
	return Plans()[level]
}
