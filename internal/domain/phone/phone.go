// Package phone parses the phone numbers Swiper accepts — a mainland China
// mobile number (13812345678) or an E.164 number (+14155550123) that can
// receive SMS — and masks them for logs.
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is returned for anything that is not an accepted phone number.
var ErrInvalid = errors.New("phone: invalid number")

// Parse returns the E.164 form of raw ("+8613812345678"). Mainland China
// numbers must be 11-digit mobiles (1[3-9] prefix). Other numbers must be
// valid for their numbering plan and able to receive SMS (API.md §2):
// mobile numbers, or fixed-line-or-mobile ones where the plan cannot tell
// the two apart (e.g. +1). Premium-rate, toll-free, shared-cost, VoIP,
// personal, pager, UAN, voicemail and fixed-line numbers are refused, and so
// is every number of the international networks (+800, +808, +870, +881,
// +882, +883, +979, …: satellite phones and global services), so nobody can
// make the service pay for SMS that reach no phone or a premium line.
func Parse(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if len(s) > 16 {
		return "", ErrInvalid
	}
	if isMainland(s) {
		return "+86" + s, nil
	}
	if len(s) < 8 || s[0] != '+' || s[1] == '0' || !allDigits(s[1:]) {
		return "", ErrInvalid
	}
	if strings.HasPrefix(s, "+86") {
		if !isMainland(s[3:]) {
			return "", ErrInvalid
		}
		return s, nil
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	if phonenumbers.Format(n, phonenumbers.E164) != s || !receivesSMS(n) {
		return "", ErrInvalid
	}
	return s, nil
}

// receivesSMS reports whether a valid number is of a type that receives SMS:
// a mobile, or a number its plan cannot tell from one, of a country (the
// non-geographic "001" region holds the international networks, whose
// satellite numbers the metadata calls mobile).
func receivesSMS(n *phonenumbers.PhoneNumber) bool {
	if phonenumbers.GetRegionCodeForNumber(n) == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		return false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return true
	}
	return false
}

// Last4 returns the last four digits of an E.164 number.
func Last4(e164 string) string {
	if len(e164) < 4 {
		return e164
	}
	return e164[len(e164)-4:]
}

// Mask hides a number for logs: it keeps the country calling code and the
// last 4 digits of the national number, e.g. "+8613812345678" →
// "+86*******5678", so that test phones can be told apart in a log while the
// number itself is not in it. A national number shorter than 8 digits is
// masked entirely (its last 4 would be most of it); input that is not E.164
// is masked as a national number.
func Mask(e164 string) string {
	prefix, national := "", e164
	if rest, ok := strings.CutPrefix(e164, "+"); ok {
		n := countryCodeLen(rest)
		prefix, national = "+"+rest[:n], rest[n:]
	}
	if len(national) < 8 {
		return prefix + strings.Repeat("*", len(national))
	}
	return prefix + strings.Repeat("*", len(national)-4) + national[len(national)-4:]
}

// countryCodeLen returns the length of the ITU-T E.164 country calling code
// at the start of digits (0 when digits are too short to hold a number).
// Country codes are prefix-free: "1" and "7" are the only 1-digit codes,
// the 2-digit ones are listed below, all others have 3.
func countryCodeLen(digits string) int {
	if len(digits) < 4 {
		return 0
	}
	switch digits[0] {
	case '1', '7':
		return 1
	}
	switch digits[:2] {
	case "20", "27", "30", "31", "32", "33", "34", "36", "39",
		"40", "41", "43", "44", "45", "46", "47", "48", "49",
		"51", "52", "53", "54", "55", "56", "57", "58",
		"60", "61", "62", "63", "64", "65", "66",
		"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98":
		return 2
	}
	return 3
}

func isMainland(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && allDigits(s)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
