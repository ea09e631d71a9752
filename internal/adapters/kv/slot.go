package kv

import (
	"strings"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// UserTag is the hash tag of user id's keys, "{u:ID}" (model.UserTag, where
// the rule that one user's keys share one Redis Cluster slot is written).
func UserTag(id int64) string { return model.UserTag(id) }

// Slot returns the Redis Cluster hash slot of key (0-16383): CRC16 of the
// key, or of its hash tag — the text between the first "{" and the next
// "}" when that is not empty — so that keys sharing a tag share a slot.
// Multi-key commands and scripts on a cluster must keep to one slot.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key)) % ClusterSlots
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial 0), Redis Cluster's key hash.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
