package apptest_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cpuMeter measures the CPU time a benchmark costs this process (the
// server and its HTTP clients), mariadbd and the Redis on port 6379, from
// /proc (Linux; elsewhere it reports nothing). The database and Redis
// serve everyone on the machine: their figures hold whatever else ran.
type cpuMeter struct {
	pids  map[string]int // metric name → pid
	start map[string]int64
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times.
const clockTicks = 100

func newCPUMeter() *cpuMeter {
	m := &cpuMeter{pids: map[string]int{"cpu-µs/op": os.Getpid()}, start: map[string]int64{}}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(d + "/comm")
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		switch strings.TrimSpace(string(comm)) {
		case "mariadbd", "mysqld":
			m.pids["mariadbd-µs/op"] = pid
		case "redis-server":
			if cmd, _ := os.ReadFile(d + "/cmdline"); strings.Contains(string(cmd), ":6379") {
				m.pids["redis-µs/op"] = pid
			}
		}
	}
	for name, pid := range m.pids {
		m.start[name] = ticks(pid)
	}
	return m
}

// ticks is the user+system CPU time of pid in clock ticks (-1: unknown).
func ticks(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	k, err2 := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	if err1 != nil || err2 != nil {
		return -1
	}
	return u + k
}

// report reports the CPU time per operation of each process since the
// meter was made.
func (m *cpuMeter) report(b *testing.B, n int) {
	for name, pid := range m.pids {
		end := ticks(pid)
		if end < 0 || m.start[name] < 0 || n == 0 {
			continue
		}
		b.ReportMetric(float64(end-m.start[name])*1e6/clockTicks/float64(n), name)
	}
}
