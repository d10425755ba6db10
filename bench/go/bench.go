// The Go peer of corio's benchmark: the same scenarios, written the way a Go
// programmer writes them (goroutines, channels, os.File, net), printing the
// same result lines as bench/common/bench.c:
//
//	RESULT <scenario> go <unit> <n> <median> <p99> <p999> <ops/s> <note>   (tab-separated)
//	SKIP   <scenario> go <reason>
//
// Usage: bench_go <scenario> [--quick] | bench_go echo-server <procs> |
//        bench_go http-server <address> <procs>
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

const impl = "go"

type opts struct {
	scenario string
	quick    bool
}

var base = time.Now()

// now is monotonic nanoseconds since the program started.
func now() int64 { return int64(time.Since(base)) }

func spin(ns int64) {
	end := now() + ns
	for now() < end {
	}
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(2)
}

// samples mirrors bench_samples_t: one value per sample, plus the operations
// they cover and the time those took, for ops/s.
type samples struct {
	v      []int64
	ops    float64
	busyNs float64
}

func newSamples(n int) *samples { return &samples{v: make([]int64, 0, n)} }

// add records a sample timing ops operations that took ns in all.
func (s *samples) add(ns int64, ops float64) {
	s.v = append(s.v, int64(float64(ns)/ops+0.5))
	s.ops += ops
	s.busyNs += float64(ns)
}

func (s *samples) addOvershoot(elapsed, nominal int64) {
	s.v = append(s.v, elapsed-nominal)
	s.ops++
	s.busyNs += float64(elapsed)
}

// Nearest rank, as bench.c.
func (s *samples) percentile(q float64) int64 {
	rank := int(q*float64(len(s.v)) + 0.999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(s.v) {
		rank = len(s.v)
	}
	return s.v[rank-1]
}

func clean(note string) string {
	return strings.NewReplacer("\t", " ", "\n", " ").Replace(note)
}

func emitNs(o *opts, s *samples, opsPerS float64, note string) {
	if len(s.v) == 0 {
		emitSkip(o, "no samples")
		return
	}
	sort.Slice(s.v, func(i, j int) bool { return s.v[i] < s.v[j] })
	if opsPerS < 0 {
		opsPerS = 0
		if s.busyNs > 0 {
			opsPerS = s.ops * 1e9 / s.busyNs
		}
	}
	fmt.Printf("RESULT\t%s\t%s\tns\t%d\t%d\t%d\t%d\t%.0f\t%s\n", o.scenario, impl, len(s.v),
		s.percentile(0.5), s.percentile(0.99), s.percentile(0.999), opsPerS, clean(note))
}

func emitBytes(o *opts, bytes float64, note string) {
	fmt.Printf("RESULT\t%s\t%s\tB\t1\t%.0f\t-\t-\t-\t%s\n", o.scenario, impl, bytes, clean(note))
}

func emitSkip(o *opts, reason string) {
	fmt.Printf("SKIP\t%s\t%s\t%s\n", o.scenario, impl, clean(reason))
}

var (
	progWhat string
	progStep = -1
	isTTY    = func() bool {
		st, err := os.Stderr.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0
	}()
)

// progress mirrors bench_progress: a rewritten line on a terminal, a line at
// half way and at the end otherwise.
func progress(what string, done, total int) {
	steps := 2
	if isTTY {
		steps = 20
	}
	step := steps
	if total > 0 {
		step = done * steps / total
	}
	if what == progWhat && step == progStep {
		return
	}
	progWhat, progStep = what, step
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	end := ""
	if done >= total {
		end = "\n"
	}
	if isTTY {
		fmt.Fprintf(os.Stderr, "\r    %-6s %-34s %3d%% (%d/%d)%s", impl, what, pct, done, total, end)
	} else if done >= total || step > 0 {
		fmt.Fprintf(os.Stderr, "    %-6s %-34s %3d%% (%d/%d)\n", impl, what, pct, done, total)
	}
}

var scenarios = map[string]func(o *opts){
	"yield_rt":     yieldRT,
	"chan_rt":      chanRT,
	"ready_xp":     readyXP,
	"sleep_1ms":    sleep1ms,
	"pipe_rt_1p":   func(o *opts) { pipeRT(o, 1) },
	"pipe_rt_2p":   func(o *opts) { pipeRT(o, 2) },
	"tcp_rt":       tcpRT,
	"conn_rate":    connRate,
	"deadline_1ms": deadline1ms,
	"wake_storm":   wakeStorm,
	"mem_chan":     memChan,
	"mem_io":       memIO,
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "echo-server" {
		echoServer(os.Args[2])
		return
	}
	if len(os.Args) >= 4 && os.Args[1] == "http-server" {
		httpServer(os.Args[2], os.Args[3])
		return
	}
	o := &opts{}
	for _, a := range os.Args[1:] {
		switch {
		case a == "--quick":
			o.quick = true
		case !strings.HasPrefix(a, "-") && o.scenario == "":
			o.scenario = a
		default:
			die("usage: bench_go <scenario> [--quick]")
		}
	}
	if o.scenario == "" {
		die("usage: bench_go <scenario> [--quick]")
	}
	run, ok := scenarios[o.scenario]
	if !ok {
		emitSkip(o, "unknown scenario")
		return
	}
	run(o)
}
