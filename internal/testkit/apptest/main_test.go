package apptest_test

import (
	"os"
	"testing"

	"github.com/qiniu/go-sdk/v7/storagev2/uplog"
)

func TestMain(m *testing.M) {
	// No telemetry from the Qiniu SDK to the outside world in tests.
	uplog.DisableUplog()
	os.Exit(m.Run())
}
