// Go peer of the language's sieve benchmark: Go's classic concurrent prime
// sieve up to the 2,000th prime, one goroutine per prime.
package main

import (
	"fmt"
	"os"
	"time"
)

func generate(ch chan<- int) {
	for i := 2; ; i++ {
		ch <- i
	}
}

func filter(src <-chan int, dst chan<- int, p int) {
	for {
		n := <-src
		if n%p != 0 {
			dst <- n
		}
	}
}

func main() {
	target := 2000
	if len(os.Args) > 1 && os.Args[1] == "--quick" {
		target = 500
	}
	t0 := time.Now()
	ch := make(chan int)
	go generate(ch)
	prime := 0
	for i := 0; i < target; i++ {
		prime = <-ch
		next := make(chan int)
		go filter(ch, next, prime)
		ch = next
	}
	ns := time.Since(t0).Nanoseconds()
	fmt.Printf("RESULT\tlang_sieve\tgo\tns\t1\t%d\t%d\t%d\t%.0f\tGo: goroutine per prime, unbuffered channels; prime %d is %d\n",
		ns, ns, ns, 1e9/float64(ns)*float64(target), target, prime)
}
