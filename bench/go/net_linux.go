package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
)

// connRate: dial + accept + a pTCPMsg echo + close, one connection at a
// time, the steps corio's and the floor's conn_rate make: the client dials,
// writes, reads the echo and closes; a goroutine per accepted connection
// reads the message, writes it back, reads end of stream and closes.
// Sample = one connection, from the dial to the client's close.
// GOMAXPROCS=1.
func connRate(o *opts) {
	runtime.GOMAXPROCS(1)
	warm, n := pick(o, pConnWarm), pick(o, pConnSamples)
	s := newSamples(n)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		die("listen: %v", err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				buf := make([]byte, pTCPMsg)
				if _, err := io.ReadFull(c, buf); err == nil {
					c.Write(buf)
				}
				io.Copy(io.Discard, c)
				c.Close()
			}(c)
		}
	}()
	addr := l.Addr().String()
	msg, back := make([]byte, pTCPMsg), make([]byte, pTCPMsg)
	for i := -warm; i < n; i++ {
		t0 := now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			die("dial: %v", err)
		}
		if _, err := c.Write(msg); err != nil {
			die("write: %v", err)
		}
		if _, err := io.ReadFull(c, back); err != nil {
			die("read: %v", err)
		}
		c.Close()
		t1 := now()
		if i >= 0 {
			s.add(t1-t0, 1)
			progress("connections", i+1, n)
		}
	}
	l.Close()
	emitNs(o, s, -1, "net.Dial + Accept + 64-byte echo + Close, GOMAXPROCS=1")
}

// httpServer: the net/http peer of examples/http_hello.c for wrk: "Hello,
// World!" as text/plain on every path, keep-alive (net/http's default).
// Prints "PORT <n>" and serves until killed. GOMAXPROCS = procs.
func httpServer(addr, procsArg string) {
	procs, err := strconv.Atoi(procsArg)
	if err != nil || procs < 1 {
		die("http-server: bad procs %q", procsArg)
	}
	runtime.GOMAXPROCS(procs)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		die("listen: %v", err)
	}
	fmt.Printf("PORT %d\n", l.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	hello := []byte("Hello, World!")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "13")
		w.Write(hello)
	})
	die("serve: %v", http.Serve(l, h))
}
