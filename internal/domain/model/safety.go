package model

import "time"

// Report is a row of reports (its name gives the table, as for the other
// rows here).
type Report struct {
	ID             int64      `bun:"id,pk,autoincrement"`
	ReporterID     int64      `bun:"reporter_id"`
	ReportedID     int64      `bun:"reported_id"`
	Reason         string     `bun:"reason"`
	Note           string     `bun:"note"`
	CreatedAt      time.Time  `bun:"created_at"`
	ResolvedAt     *time.Time `bun:"resolved_at"`
	Resolution     string     `bun:"resolution"`
	ResolutionNote string     `bun:"resolution_note"`
}

// ReportReq is a report to record.
type ReportReq struct {
	Report    Report // ReporterID, ReportedID, Reason, Note, CreatedAt
	Day       string // the reporter's local day, whose count the report uses
	MaxPerDay int    // reports allowed per reporter and day
	HideAt    int    // open reports from this many reporters hide the reported user from decks
}

// ReportLine is one report with its reported user's phone, for moderators.
type ReportLine struct {
	Report
	Phone string `bun:"phone"`
}

// BlockOutcome is what a block (or a report, which blocks) changed.
type BlockOutcome struct {
	Unmatched bool // the match of the two was removed
	Hidden    bool // (reports) the reported user just left every deck
}

// BlockedUser is a line of a user's blocked list.
type BlockedUser struct {
	ID        int64     `bun:"id"`
	Nickname  string    `bun:"nickname"`
	Avatar    string    `bun:"avatar"`
	BlockedAt time.Time `bun:"blocked_at"`
}

// Deleted is what marking an account deleted found of it.
type Deleted struct {
	MediaKeys []string // avatar and photos: their files are to be removed
	Partners  []int64  // the users it was matched with
}

// ExportSwipe, ExportMatch, ExportBlock and ExportReport are a user's own
// rows as the export lists them.
type (
	ExportSwipe struct {
		UserID int64     `bun:"swiped_id"`
		Action int8      `bun:"action"`
		At     time.Time `bun:"created_at"`
	}
	ExportMatch struct {
		UserID    int64     `bun:"other_id"`
		MatchedAt time.Time `bun:"matched_at"`
	}
	ExportBlock struct {
		UserID    int64     `bun:"blocked_id"`
		BlockedAt time.Time `bun:"created_at"`
	}
	ExportReport struct {
		UserID int64     `bun:"reported_id"`
		Reason string    `bun:"reason"`
		Note   string    `bun:"note"`
		At     time.Time `bun:"created_at"`
	}
)

// ExportMessage is a message of one of a user's conversations.
type ExportMessage struct {
	UserA  int64     `bun:"user_a"`
	UserB  int64     `bun:"user_b"`
	From   int64     `bun:"sender_id"`
	Text   string    `bun:"text"`
	SentAt time.Time `bun:"sent_at"`
}

// Export is everything stored about a user that is theirs: their own
// actions (swipes, blocks, reports), their matches and the messages of
// their conversations.
type Export struct {
	Swipes   []ExportSwipe
	Matches  []ExportMatch
	Messages []ExportMessage
	Blocks   []ExportBlock
	Reports  []ExportReport
}
