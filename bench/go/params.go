package main

// Workload sizes: these must match bench/common/params.h, so that Go does
// exactly the work corio and the other peers do. Each pair is {full, quick}.
var (
	pBatch        = 1000
	pYieldSamples = [2]int{3000, 200}
	pChanSamples  = [2]int{2000, 100}
	pSmallWarm    = [2]int{50, 5}
	pReadyGapNs   = int64(20000)
	pReadySamples = [2]int{20000, 1000}
	pReadyWarm    = [2]int{200, 20}
	pPipeSamples  = [2]int{100000, 5000}
	pPipeWarm     = [2]int{2000, 200}
	pTCPSamples   = [2]int{50000, 2000}
	pTCPWarm      = [2]int{1000, 100}
	pTCPMsg       = 64
	pTimerNs      = int64(1000000)
	pTimerSamples = [2]int{1000, 50}
	pTimerWarm    = [2]int{20, 5}
	pStormReaders = 10000
	pStormRounds  = [2]int{30, 3}
	pStormWarm    = [2]int{3, 1}
	pEchoConns    = 1000
	pConnSamples  = [2]int{20000, 1000}
	pConnWarm     = [2]int{500, 50}
	pMemCount     = [2]int{100000, 10000}
)

// pick returns the full or the quick value.
func pick(o *opts, v [2]int) int {
	if o.quick {
		return v[1]
	}
	return v[0]
}
