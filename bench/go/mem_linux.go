package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// rssBytes reads the resident set from /proc/self/statm, as bench/common does.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return -1
	}
	defer f.Close()
	var size, resident int64
	if _, err := fmt.Fscan(f, &size, &resident); err != nil {
		return -1
	}
	return resident * int64(os.Getpagesize())
}

// parkAll starts n goroutines with start(i), waits until each has reported
// that it started, then sleeps 20 ms so that all have parked (GOMAXPROCS=1).
func parkAll(n int, started *int64, start func(i int)) {
	atomic.StoreInt64(started, 0)
	for i := 0; i < n; i++ {
		start(i)
		if i&1023 == 1023 {
			progress("goroutines parked", i+1, n)
		}
	}
	limit := now() + 30e9
	for atomic.LoadInt64(started) < int64(n) {
		if now() > limit {
			die("only %d of %d goroutines started in 30 s", atomic.LoadInt64(started), n)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	progress("goroutines parked", n, n)
}

// memChan: as corio's mem_chan: RSS before and after n goroutines each
// blocked receiving on an unbuffered channel of its own; warm-up first.
func memChan(o *opts) {
	runtime.GOMAXPROCS(1)
	n := pick(o, pMemCount)
	chans := make([]chan int, n)
	var started int64
	var wg sync.WaitGroup
	run := func(count int) {
		wg.Add(count)
		parkAll(count, &started, func(i int) {
			chans[i] = make(chan int)
			go func(c chan int) {
				atomic.AddInt64(&started, 1)
				<-c
				wg.Done()
			}(chans[i])
		})
	}
	release := func(count int) {
		for i := 0; i < count; i++ {
			close(chans[i])
		}
		wg.Wait()
	}
	run(64)
	release(64)
	before := rssBytes()
	run(n)
	after := rssBytes()
	release(n)
	emitBytes(o, float64(after-before)/float64(n),
		itoa(n)+" goroutines, own unbuffered channel each, GOMAXPROCS=1")
}

// memIO: as corio's mem_io: n goroutines blocked reading, sharing
// min(n, hard open-file limit - 256) socketpair ends round-robin (Go raises
// the soft limit to the hard one at start-up).
func memIO(o *opts) {
	runtime.GOMAXPROCS(1)
	n := pick(o, pMemCount)
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	lim := int64(rl.Max) - 256
	if rl.Max > 1<<40 {
		lim = 1 << 20
	}
	ends := n
	if lim < int64(n) {
		ends = int(lim)
	}
	ends &^= 1
	var started int64
	var wg sync.WaitGroup
	reader := func(f *os.File) {
		b := make([]byte, 1)
		atomic.AddInt64(&started, 1)
		f.Read(b)
		wg.Done()
	}
	warm := socketpairEnds(2)
	wg.Add(64)
	parkAll(64, &started, func(i int) { go reader(warm[i%2]) })
	for _, f := range warm {
		f.Close()
	}
	wg.Wait()
	before := rssBytes()
	files := socketpairEnds(ends)
	wg.Add(n)
	parkAll(n, &started, func(i int) { go reader(files[i%ends]) })
	after := rssBytes()
	for _, f := range files {
		f.Close()
	}
	wg.Wait()
	share := ""
	if ends < n {
		share = fmt.Sprintf(" (%.1f per end: the hard open-file limit)", float64(n)/float64(ends))
	}
	emitBytes(o, float64(after-before)/float64(n), fmt.Sprintf(
		"%d readers on %d socketpair ends%s, GOMAXPROCS=1", n, ends, share))
}
