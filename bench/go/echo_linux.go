package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
)

// echoServer: the Go echo server bench_echo_client drives (the client's
// comment says what is timed). GOMAXPROCS = procs; one listener; a goroutine
// per connection that writes back what it reads; the process exits when the
// client closes stdin.
func echoServer(procsArg string) {
	procs, err := strconv.Atoi(procsArg)
	if err != nil || procs < 1 {
		die("echo-server: bad procs %q", procsArg)
	}
	runtime.GOMAXPROCS(procs)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("listen: %v", err)
	}
	fmt.Printf("PORT %d\n", l.Addr().(*net.TCPAddr).Port)
	go func() {
		r := bufio.NewReader(os.Stdin)
		for {
			if _, err := r.ReadByte(); err != nil {
				os.Exit(0)
			}
		}
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			die("accept: %v", err)
		}
		go func(c net.Conn) {
			buf := make([]byte, 4096)
			for {
				k, err := c.Read(buf)
				if err != nil {
					break
				}
				if _, err := c.Write(buf[:k]); err != nil {
					break
				}
			}
			c.Close()
		}(c)
	}
}
