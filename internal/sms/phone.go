package sms

import "strings"

// MaskPhone hides the middle of a phone number for logs: it keeps the
// country calling code, the first 3 and the last 2 digits of the national
// number, e.g. "+8613812345678" → "+86138******78". Input that is not E.164
// is masked as a national number; very short numbers are masked entirely.
func MaskPhone(e164 string) string {
	prefix, national := "", e164
	if rest, ok := strings.CutPrefix(e164, "+"); ok {
		n := countryCodeLen(rest)
		prefix, national = "+"+rest[:n], rest[n:]
	}
	if len(national) < 6 {
		return prefix + strings.Repeat("*", len(national))
	}
	return prefix + national[:3] + strings.Repeat("*", len(national)-5) + national[len(national)-2:]
}

// countryCodeLen returns the length of the ITU-T E.164 country calling code
// at the start of digits. Country codes are prefix-free: "1" and "7" are the
// only 1-digit codes, the 2-digit ones are listed below, all others have 3.
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

// isE164 reports whether phone is "+" followed by 8 to 15 digits.
func isE164(phone string) bool {
	digits, ok := strings.CutPrefix(phone, "+")
	if !ok || len(digits) < 8 || len(digits) > 15 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
