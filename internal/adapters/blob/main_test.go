package blob_test

import (
	"os"
	"testing"

	"github.com/qiniu/go-sdk/v7/storagev2/uplog"
)

func TestMain(m *testing.M) {
	// The Qiniu SDK records upload telemetry under $TMPDIR and ships it to
	// uplog.qbox.me every minute; tests talk to a local fake only. This is a
	// process-wide SDK switch, flipped before any test goroutine starts.
	uplog.DisableUplog()
	os.Exit(m.Run())
}
