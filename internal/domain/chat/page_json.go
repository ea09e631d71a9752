package chat

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON writes the page as encoding/json writes it from the fields'
// tags (HTML not escaped, as the API answers), without reflection: a page
// of 50 messages is the chat's most frequent answer.
func (p MessagesPage) MarshalJSON() ([]byte, error) {
	return p.AppendJSON(make([]byte, 0, 32+len(p.Messages)*192)), nil
}

// AppendJSON appends what MarshalJSON returns to b: the HTTP answer writes
// it straight into its body, which spares encoding/json's check and copy
// of a marshaler's output.
func (p MessagesPage) AppendJSON(b []byte) []byte {
	b = slices.Grow(b, 32+len(p.Messages)*192)
	b = append(b, `{"messages":[`...)
	for i, m := range p.Messages {
		if i > 0 {
			b = append(b, ',')
		}
		b = m.appendJSON(b)
	}
	b = append(b, `],"has_more":`...)
	b = strconv.AppendBool(b, p.HasMore)
	return append(b, '}')
}

// appendJSON appends m as encoding/json writes it.
func (m Message) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"from":`...)
	b = strconv.AppendInt(b, m.From, 10)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, m.Text)
	b = append(b, `,"client_id":`...)
	b = appendJSONString(b, m.ClientID)
	b = append(b, `,"sent_at":`...)
	b = m.SentAt.appendJSON(b)
	b = append(b, `,"read":`...)
	b = strconv.AppendBool(b, m.Read)
	return append(b, '}')
}

// timeLayout is Time's JSON layout (MarshalJSON).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// appendJSONString appends s as a JSON string the way encoding/json does
// without HTML escaping: quote, backslash and control characters escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				if r == utf8.RuneError {
					b = append(b, `\ufffd`...)
				} else {
					b = append(b, `\u202`...)
					b = append(b, hex[r&0xf])
				}
				start = i + size
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
