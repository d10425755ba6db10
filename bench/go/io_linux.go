package main

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// pipeRT: os.Pipe pairs a->b and b->a; goroutine B echoes, A times each
// round trip (write, then read the answer). GOMAXPROCS = procs (1 or 2).
func pipeRT(o *opts, procs int) {
	runtime.GOMAXPROCS(procs)
	warm, n := pick(o, pPipeWarm), pick(o, pPipeSamples)
	s := newSamples(n)
	abR, abW, err1 := os.Pipe()
	baR, baW, err2 := os.Pipe()
	if err1 != nil || err2 != nil {
		die("os.Pipe failed")
	}
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 64)
		for {
			k, err := abR.Read(buf)
			if err != nil {
				break
			}
			if _, err := baW.Write(buf[:k]); err != nil {
				die("pipe echo write: %v", err)
			}
		}
		close(done)
	}()
	one, buf := []byte("x"), make([]byte, 64)
	for i := -warm; i < n; i++ {
		t0 := now()
		if _, err := abW.Write(one); err != nil {
			die("pipe write: %v", err)
		}
		k, err := baR.Read(buf)
		t1 := now()
		if err != nil || k != 1 {
			die("pipe read: %v", err)
		}
		if i >= 0 {
			s.add(t1-t0, 1)
			progress("round trips", i+1, n)
		}
	}
	abW.Close()
	<-done
	abR.Close()
	baR.Close()
	baW.Close()
	emitNs(o, s, -1, "os.Pipe, 2 goroutines, GOMAXPROCS="+itoa(procs))
}

func itoa(v int) string { return strconv.Itoa(v) }

// tcpRT: one loopback TCP connection (Go sets TCP_NODELAY by default); the
// server goroutine reads pTCPMsg bytes and writes them back, the client times
// each round trip. GOMAXPROCS=1.
func tcpRT(o *opts) {
	runtime.GOMAXPROCS(1)
	warm, n := pick(o, pTCPWarm), pick(o, pTCPSamples)
	s := newSamples(n)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("listen: %v", err)
	}
	accepted := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			die("accept: %v", err)
		}
		accepted <- c
	}()
	cli, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		die("dial: %v", err)
	}
	srv := <-accepted
	l.Close()
	done := make(chan struct{})
	go func() {
		buf := make([]byte, pTCPMsg)
		for {
			if _, err := io.ReadFull(srv, buf); err != nil {
				break
			}
			if _, err := srv.Write(buf); err != nil {
				break
			}
		}
		close(done)
	}()
	msg, back := make([]byte, pTCPMsg), make([]byte, pTCPMsg)
	for i := -warm; i < n; i++ {
		t0 := now()
		if _, err := cli.Write(msg); err != nil {
			die("tcp write: %v", err)
		}
		if _, err := io.ReadFull(cli, back); err != nil {
			die("tcp read: %v", err)
		}
		t1 := now()
		if i >= 0 {
			s.add(t1-t0, 1)
			progress("round trips", i+1, n)
		}
	}
	cli.Close()
	<-done
	srv.Close()
	emitNs(o, s, -1, "net.Conn loopback, 2 goroutines, GOMAXPROCS=1")
}

// sleep1ms: time.Sleep(1 ms); sample = elapsed - 1 ms. GOMAXPROCS=1.
func sleep1ms(o *opts) {
	runtime.GOMAXPROCS(1)
	warm, n := pick(o, pTimerWarm), pick(o, pTimerSamples)
	s := newSamples(n)
	for i := -warm; i < n; i++ {
		t0 := now()
		time.Sleep(time.Duration(pTimerNs))
		t1 := now()
		if i >= 0 {
			s.addOvershoot(t1-t0, pTimerNs)
			progress("sleeps", i+1, n)
		}
	}
	emitNs(o, s, -1, "time.Sleep, GOMAXPROCS=1")
}

// deadline1ms: a read with a deadline 1 ms ahead on an empty os.Pipe; it must
// fail with os.ErrDeadlineExceeded. Sample = elapsed - 1 ms. GOMAXPROCS=1.
func deadline1ms(o *opts) {
	runtime.GOMAXPROCS(1)
	warm, n := pick(o, pTimerWarm), pick(o, pTimerSamples)
	s := newSamples(n)
	r, w, err := os.Pipe()
	if err != nil {
		die("os.Pipe: %v", err)
	}
	buf := make([]byte, 16)
	for i := -warm; i < n; i++ {
		t0 := now()
		r.SetReadDeadline(time.Now().Add(time.Duration(pTimerNs)))
		_, err := r.Read(buf)
		t1 := now()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			die("deadline read: %v", err)
		}
		if i >= 0 {
			s.addOvershoot(t1-t0, pTimerNs)
			progress("deadlines", i+1, n)
		}
	}
	r.Close()
	w.Close()
	emitNs(o, s, -1, "os.File.Read with SetReadDeadline, empty pipe, GOMAXPROCS=1")
}

// socketpairEnds opens n/2 non-blocking socketpairs as *os.File (os.NewFile
// puts a non-blocking descriptor on the poller); ends[i] is read, and a byte
// for it is written to ends[i^1].
func socketpairEnds(n int) []*os.File {
	ends := make([]*os.File, n)
	for i := 0; i < n; i += 2 {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			die("socketpair: %v", err)
		}
		ends[i] = os.NewFile(uintptr(fds[0]), "sp0")
		ends[i+1] = os.NewFile(uintptr(fds[1]), "sp1")
	}
	return ends
}

// wakeStorm: pStormReaders goroutines each reading its own socketpair end; a
// round writes one byte for every reader, then waits for the last reader to
// signal. Sample = first write to last reader run. GOMAXPROCS=1.
func wakeStorm(o *opts) {
	runtime.GOMAXPROCS(1)
	warm, n, nr := pick(o, pStormWarm), pick(o, pStormRounds), pStormReaders
	s := newSamples(n)
	ends := socketpairEnds(nr)
	var ran int64
	var last int64
	roundDone := make(chan struct{}, 1)
	exited := make(chan struct{}, nr)
	for i := 0; i < nr; i++ {
		go func(f *os.File) {
			buf := make([]byte, 16)
			for {
				if _, err := f.Read(buf); err != nil {
					break
				}
				if atomic.AddInt64(&ran, 1) == int64(nr) {
					atomic.StoreInt64(&last, now())
					roundDone <- struct{}{}
				}
			}
			exited <- struct{}{}
		}(ends[i])
	}
	time.Sleep(10 * time.Millisecond)
	one := []byte("x")
	for round := -warm; round < n; round++ {
		atomic.StoreInt64(&ran, 0)
		t0 := now()
		for i := 0; i < nr; i++ {
			if _, err := ends[i^1].Write(one); err != nil {
				die("storm write: %v", err)
			}
		}
		<-roundDone
		t1 := atomic.LoadInt64(&last)
		if round >= 0 {
			s.add(t1-t0, 1)
			s.ops += float64(nr - 1)
			progress("storms", round+1, n)
		}
	}
	for _, f := range ends {
		f.Close()
	}
	for i := 0; i < nr; i++ {
		<-exited
	}
	emitNs(o, s, -1, itoa(nr)+" goroutines on "+itoa(nr)+" socketpair ends, GOMAXPROCS=1")
}
