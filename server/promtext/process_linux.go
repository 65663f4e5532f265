package promtext

import (
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// addProcess adds the process's families, from /proc and the kernel.
func (r *Registry) addProcess() {
	pageSize := float64(os.Getpagesize())
	statm := func(field int) func() float64 {
		return func() float64 {
			b, err := os.ReadFile("/proc/self/statm")
			if f := strings.Fields(string(b)); err == nil && len(f) > field {
				n, _ := strconv.ParseFloat(f[field], 64)
				return n * pageSize
			}
			return math.NaN()
		}
	}
	r.valueFunc("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", statm(1))
	r.valueFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", statm(0))
	r.valueFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", func() float64 {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
			return math.NaN()
		}
		sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
		return sec(ru.Utime) + sec(ru.Stime)
	})
	r.valueFunc("process_open_fds", "Number of open file descriptors.", "gauge", func() float64 {
		d, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			return math.NaN()
		}
		return float64(len(d) - 1) // less the one reading it
	})
	r.valueFunc("process_max_fds", "Maximum number of open file descriptors.", "gauge", func() float64 {
		var rl syscall.Rlimit
		if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
			return math.NaN()
		}
		return float64(rl.Cur)
	})
	r.valueFunc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
		func() float64 { return float64(processStart.UnixNano()) / 1e9 })
}
