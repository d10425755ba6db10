package main

import (
	"runtime"
	"sync/atomic"
)

// yieldRT: two goroutines on GOMAXPROCS=1; B calls runtime.Gosched in a loop
// until told to stop, A times batches of pBatch Gosched calls (each one a
// round trip A -> B -> A). Sample = batch time / pBatch. Warm-up and sample
// counts as corio's (bench/corio/sched.c).
func yieldRT(o *opts) {
	runtime.GOMAXPROCS(1)
	warm, n := pick(o, pSmallWarm), pick(o, pYieldSamples)
	s := newSamples(n)
	var stop int32
	turns := int64(-1) // published by B when it stops
	go func() {
		// A plain counter, like the floor's and corio's, not a locked add.
		var t int64
		for atomic.LoadInt32(&stop) == 0 {
			t++
			runtime.Gosched()
		}
		atomic.StoreInt64(&turns, t)
	}()
	for i := -warm; i < n; i++ {
		t0 := now()
		for j := 0; j < pBatch; j++ {
			runtime.Gosched()
		}
		t1 := now()
		if i >= 0 {
			s.add(t1-t0, float64(pBatch))
			progress("round trips", i+1, n)
		}
	}
	atomic.StoreInt32(&stop, 1)
	for atomic.LoadInt64(&turns) < 0 {
		runtime.Gosched()
	}
	// B must have had (nearly) every turn, or the ping-pong did not happen.
	// Not exactly every one: Go's own goroutines (GC workers, the scavenger)
	// can take a few of A's yields (a run on 2026-11-26 saw 96.8%).
	if atomic.LoadInt64(&turns) < int64((warm+n)*pBatch)*9/10 {
		die("yield_rt: B ran %d times for %d yields", turns, (warm+n)*pBatch)
	}
	emitNs(o, s, -1, "runtime.Gosched ping-pong, 2 goroutines, GOMAXPROCS=1")
}

// chanRT: two goroutines on GOMAXPROCS=1 and two unbuffered channels; a round
// trip is one ping and one pong. Sample = batch of pBatch round trips / pBatch.
func chanRT(o *opts) {
	runtime.GOMAXPROCS(1)
	warm, n := pick(o, pSmallWarm), pick(o, pChanSamples)
	s := newSamples(n)
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := -warm; i < n; i++ {
		t0 := now()
		for j := 0; j < pBatch; j++ {
			ping <- j
			if back := <-pong; back != j {
				die("chan_rt: sent %d, got %d", j, back)
			}
		}
		t1 := now()
		if i >= 0 {
			s.add(t1-t0, float64(pBatch))
			progress("round trips", i+1, n)
		}
	}
	close(ping)
	emitNs(o, s, -1, "unbuffered ping-pong, 2 goroutines, GOMAXPROCS=1")
}

// readyXP: GOMAXPROCS=2. Go has no public park/ready; a receive on an
// unbuffered channel is the nearest (gopark), and the send that satisfies it
// readies the receiver (goready). The waiter flags that it is about to
// receive; the waker waits for the flag, spins pReadyGapNs (the waiter is
// parked and the other P's thread idle by then), reads the clock, sends, and
// keeps spinning (keeps its P) until the waiter has published the time it
// woke. After 100 ms the waker starts yielding, as corio's does.
func readyXP(o *opts) {
	runtime.GOMAXPROCS(2)
	warm, n := pick(o, pReadyWarm), pick(o, pReadySamples)
	s := newSamples(n)
	ch := make(chan struct{})
	var receiving int32
	var wokeAt int64
	go func() {
		for {
			atomic.StoreInt32(&receiving, 1)
			if _, ok := <-ch; !ok {
				return
			}
			atomic.StoreInt64(&wokeAt, now())
		}
	}()
	late := 0
	for i := -warm; i < n; i++ {
		limit := now() + 5e9
		for atomic.SwapInt32(&receiving, 0) == 0 {
			if now() > limit {
				die("ready_xp: waiter did not come back within 5 s")
			}
			runtime.Gosched()
		}
		spin(pReadyGapNs)
		atomic.StoreInt64(&wokeAt, 0)
		t0 := now()
		ch <- struct{}{}
		var t1 int64
		for {
			if t1 = atomic.LoadInt64(&wokeAt); t1 != 0 {
				break
			}
			t := now()
			if t > t0+5e9 {
				die("ready_xp: the readied goroutine did not run within 5 s")
			}
			if t > t0+1e8 {
				runtime.Gosched()
			}
		}
		if t1-t0 > 1e8 {
			late++
		}
		if i >= 0 {
			s.add(t1-t0, 1)
			progress("wakeups", i+1, n)
		}
	}
	close(ch)
	note := "channel send to a parked receiver, waker keeps its P, GOMAXPROCS=2"
	if late > 0 {
		note += "; some waited for the waker to yield"
	}
	emitNs(o, s, -1, note)
}
