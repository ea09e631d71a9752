package sms

import "strings"

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
