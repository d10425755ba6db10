/* The scheduler's handshake between "queue work, then wake an M" and "drop
 * the P, re-check, sleep" (runtime/sched/schedule.c, proc.c, runq.h), with
 * the M blocked in the netpoller and netpoll_break.
 *
 * Names follow the C code: corio__sched.runqsize and the global queue
 * (grq), each P's run queue (lrq[p]: ring and runnext together), the idle
 * P list (pidle[], npidle), nmspinning and m->spinning, the idle M list
 * (midle[], m->park, m->nextp), sched.lastpoll (0 while an M is blocked in
 * the poller), the I/O waiter count (corio__netpoll_waiters in netpoll.c,
 * tested by corio__netpoll_any_waiters), sched.stopping. Functions are
 * inlines with the C names: corio__globrunqput(_locking), globrunqget,
 * corio__pidleput, corio__pidleget(_locking), corio__acquirep, releasep,
 * set_spinning, corio__wakep, corio__startm, corio__inject_nop,
 * corio__start_idle, stopm, take_polled, reset_spinning; each M runs
 * findrunnable and execute (corio__mloop). The steps of the handshake are
 * marked with the names schedule.c gives them above corio__wakep: S1
 * publish, S2 wakep; D1 drop the P under sched.lock, D2 stop spinning and
 * look again, D3 read the timers (abstracted: none armed), D4 the poller
 * or stopm.
 *
 * The configuration is issue 12 item 1's: one P; M0 blocked in the poller
 * (corio__netpoll(-1)) with the P idle before; M1 holding the P, about to
 * look for work; M2 and M3 idle; G1 parked on I/O (counted in
 * corio__netpoll_waiters). The kernel reports G1's descriptor ready at any
 * moment. When every G has run, the main coroutine's return stops the
 * runtime (sched.stopping, every idle M woken, netpoll_break) and each M
 * leaves its loop.
 *
 *   -DUNFIXED   the code before the fix: an M leaving the poller without a
 *               P puts the readied Gs on the global queue and calls wakep,
 *               which does nothing while an M spins; at D2 a spinning M
 *               re-checks only the Ps' local queues; startm gives wakep's
 *               spinning count back after sched.lock. Expected to deadlock:
 *               G1 on the global queue, the P idle, no spinning M, M1
 *               blocked in the poller for good, the other Ms idle.
 *   (default)   the fix as rel-sched made it (Go's way): take_polled without
 *               a P calls corio__inject_nop (the Gs to the global queue
 *               under one lock, then corio__start_idle: an idle P started
 *               for each, as injectglist does); at D2 a spinning M, once it
 *               no longer counts as spinning, loads runqsize and, if work is
 *               there, takes an idle P and the work under sched.lock, then
 *               looks at every P's local queue; startm gives the spinning
 *               count back under sched.lock.
 *   -DLATE_GIVEBACK  the fix, but startm's give-back after the lock (the
 *               second gap rel-sched's audit closed).
 *   -DNEWM_FAILS  newm fails (no memory, no thread) whenever no idle M is
 *               left: rel-sched's newm_failed puts the P back idle and gives
 *               the spinning count back and breaks the poller;
 *               -DNEWM_NOBREAK leaves the break out, as first written
 *               (with -DNM=2 it deadlocks, see FINDINGS.md).
 *   -DFOREIGN   also a thread outside the runtime readies G2 with
 *               corio_ready (runnable_put without a P: S1 on the global
 *               queue, then S2 wakep): the path the fix covers with D2
 *               alone, since it still calls wakep.
 *   -DNOIO      no G1 and no I/O waiter: M0 starts idle (with -DFOREIGN,
 *               the foreign path alone).
 *   -DSPAWN     G1, when it runs, readies G3 on its own P (runnext) and
 *               calls wakep.
 *   -DNP=2      two Ps (the second idle at the start).
 *
 * Checked: no invalid end state (every M blocked while a G is runnable is a
 * deadlock, since a blocked poller, a parked M and the main coroutine's
 * wait can each block for good), the C code's fatal checks, and, with weak
 * fairness, that every G eventually runs (ltl all_run).
 *
 * Abstracted away: timers (no timer is armed; the poller's delay is -1), the
 * periodic poll and global-queue check of every 61st pass, system calls and
 * sysmon's retake (handoffp), the order within run queues (a queue is a
 * multiset; steal takes one G), memory orders (spin explores sequentially
 * consistent interleavings; the C code's counters are seq_cst or ordered by
 * sched.lock), creating an M (a new M is an idle one from a fixed pool, and
 * an empty pool is an assertion failure, so the pool is shown to be big
 * enough). Sections under sched.lock are single steps: every field they
 * change is read outside the lock only as one counter, written last.
 */

#ifndef NP
#define NP 1
#endif
#ifndef NM
#define NM 4   /* M0, M1, and idle ones standing in for threads newm would create */
#endif
#define NOP 255

#ifdef FOREIGN
#define NG_FOREIGN 1
#else
#define NG_FOREIGN 0
#endif
#ifdef SPAWN
#define NG_SPAWN 1
#else
#define NG_SPAWN 0
#endif
#ifdef NOIO
#define NG_IO 0
#else
#define NG_IO 1
#endif
#define NG (NG_IO + NG_FOREIGN + NG_SPAWN)

#define G_IO 1       /* parked on I/O, readied by the poller */
#define G_FOREIGN 2  /* readied by a foreign thread */
#define G_SPAWNED 3  /* readied by G1 on its P */

chan grq = [NG] of { byte };       /* the global queue */
byte runqsize;                     /* corio__sched.runqsize */
chan lrq[NP] = [NG] of { byte };   /* each P's runnext and ring */

bit  pidle[NP];                    /* on the idle P list */
byte npidle;
byte nmspinning;
bit  mspinning[NM];                /* m->spinning */
byte mp[NM];                       /* m->p (NOP: none) */
bit  midle[NM];                    /* on the idle M list */
bit  park[NM];                     /* m->park: 1 while stopm sleeps */
byte nextp[NM];                    /* m->nextp */

bit  lastpoll_nz = 0;              /* sched.lastpoll != 0: nobody blocked in the poller */
byte corio__netpoll_waiters = 1;               /* G1 parked on I/O */
bit  kernel_ready;                 /* G1's descriptor is ready, not yet polled */
bit  poll_break;                   /* corio__netpoll_break pending */
bit  stopping;                     /* sched.stopping */
byte done;                         /* Gs that have run */
byte nexited;                      /* Ms that left corio__mloop */

/* ---- queues and idle lists (the bodies run under sched.lock) ---- */

/* S1 for the global queue (under sched.lock) */
inline globrunqput(g) { grq ! g; runqsize++ }

/* globrunqget(p, max): one G to run, up to n-1 more to p's queue. */
byte n_, h_, i_, j_;   /* scratch of the single-step sections below, always left 0 */

inline globrunqget(p, max, g) {
  g = 0;
  if
  :: runqsize > 0 ->
     n_ = runqsize / NP + 1;
     if :: n_ > runqsize -> n_ = runqsize :: else fi;
     if :: max > 0 && n_ > max -> n_ = max :: else fi;
     runqsize = runqsize - n_;
     grq ? g;
     n_--;
     do
     :: n_ > 0 -> grq ? h_; lrq[p] ! h_; h_ = 0; n_--
     :: else -> break
     od
  :: else
  fi;
  n_ = 0
}

inline pidleput(p) { pidle[p] = 1; npidle++ }

inline pidleget(p) {
  p = NOP;
  for (i_ : 0 .. NP - 1) {
    if :: p == NOP && pidle[i_] -> p = i_ :: else fi
  }
  i_ = 0;
  if :: p != NOP -> pidle[p] = 0; npidle-- :: else fi
}

inline acquirep(id, p) { mp[id] = p }

inline set_spinning(id, on) {
  atomic {
    if
    :: mspinning[id] != on ->
       mspinning[id] = on;
       if :: on -> nmspinning++ :: else -> assert(nmspinning > 0); nmspinning-- fi
    :: else
    fi
  }
}

/* corio__startm(p, spinning): hand p (or an idle P) to an idle M. gb: the
 * caller's scratch, set when the spinning count goes back after sched.lock
 * is released. */
inline startm(p, spinning, m, gb) {
  atomic {
    if
    :: p == NOP -> pidleget(p)
    :: else
    fi;
    if
    :: p == NOP ->
#if defined(UNFIXED) || defined(LATE_GIVEBACK)
       gb = spinning   /* the count goes back after sched.lock is released */
#else
       /* the spinning count wakep took goes back under sched.lock */
       if :: spinning -> nmspinning-- :: else fi
#endif
    :: else ->
       m = NOP;
       for (j_ : 0 .. NM - 1) {
         if :: m == NOP && midle[j_] -> m = j_ :: else fi
       }
       j_ = 0;
       if
       :: m != NOP -> midle[m] = 0
       :: m == NOP && stopping ->
          /* newm while stopping: the P goes back and (after the lock) the
           * spinning count */
          pidleput(p); p = NOP;
          gb = spinning
       :: else ->
#ifdef NEWM_FAILS
          skip;
          /* newm finds no memory or no thread (newm_failed): the P goes
           * back to the idle list and the spinning count with it, under
           * sched.lock; the work stays queued */
          pidleput(p); p = NOP;
          if :: spinning -> nmspinning-- :: else fi;
#ifndef NEWM_NOBREAK
          poll_break = 1   /* newm_failed breaks the poller (FINDINGS 4) */
#else
          skip
#endif
#else
          assert(false) /* newm: the model's pool of idle Ms is big enough */
#endif
       fi
    fi
  };
  if
  :: p != NOP ->
     atomic { mspinning[m] = spinning; nextp[m] = p; park[m] = 0 }  /* futex wake */
  :: else
  fi;
  if :: gb -> nmspinning--; gb = 0 :: else fi;
  p = NOP; m = 0
}

/* S2: corio__wakep */
inline wakep(p, m, gb) {
  if
  :: npidle == 0
  :: else ->
     if
     :: atomic { nmspinning == 0 -> nmspinning = 1 };  /* the load, then the CAS */
        p = NOP;
        startm(p, 1, m, gb)
     :: else
     fi
  fi
}

/* ---- the main coroutine's return: stop the runtime ---- */

active proctype Shutdown() {
  byte m;
  done == NG;
  stopping = 1;
  atomic {  /* corio__wake_all_idle */
    for (m : 0 .. NM - 1) {
      if :: midle[m] -> midle[m] = 0; nextp[m] = NOP; park[m] = 0 :: else fi
    }
  };
  poll_break = 1;  /* corio__netpoll_break */
  nexited == NM
}

/* ---- the outside world ---- */

#ifndef NOIO
active proctype Kernel() {
  kernel_ready = 1   /* G1's descriptor becomes ready: epoll reports it */
}
#endif

#ifdef FOREIGN
active proctype Foreign() {
  byte p, m;
  bit gb;
  /* corio_ready(G2) from a thread without an M: runnable_put(NULL, ...) */
  atomic { globrunqput(G_FOREIGN) };   /* corio__globrunqput_locking */
  wakep(p, m, gb)
}
#endif

/* ---- an M: corio__mloop(findrunnable, execute) ---- */

#define START_RUN    0   /* holds a P, about to call findrunnable */
#define START_POLLER 1   /* blocked in corio__netpoll(-1) without a P */
#define START_IDLE   2   /* in stopm, on the idle M list */

proctype M(byte id; byte start) {
  byte g, p, p2, m, i, busy;
  bit was, polled, ok, gb;

  if
  :: start == START_POLLER -> goto in_poll
  :: start == START_IDLE -> goto stopm_sleep
  :: else
  fi;

top:
  if
  :: mp[id] == NOP ->
     if :: stopping -> goto leave :: else fi;
     goto stopm
  :: else
  fi;
  p = mp[id];
  if :: stopping -> goto leave :: else fi;

  /* the local queue */
  atomic { if :: len(lrq[p]) > 0 -> lrq[p] ? g :: else fi };
  if :: g != 0 -> goto execute :: else fi;

  /* the global queue */
  if
  :: runqsize > 0 ->
     atomic { globrunqget(p, 0, g) };
     if :: g != 0 -> goto execute :: else fi
  :: else
  fi;

  /* a non-blocking poll, unless an M is blocked in the poller */
  if
  :: corio__netpoll_waiters > 0 && lastpoll_nz ->
     atomic { polled = kernel_ready; kernel_ready = 0 };
     if :: polled -> goto take_polled :: else fi
  :: else
  fi;

  /* steal, if not too many Ms are at it */
  busy = NP - npidle;
  if
  :: mspinning[id] || 2 * nmspinning < busy ->
     set_spinning(id, 1);
     for (i : 0 .. NP - 1) {
       if
       :: i != p -> atomic { if :: len(lrq[i]) > 0 -> lrq[i] ? g; :: else fi }
       :: else
       fi;
       if :: g != 0 -> break :: else fi
     };
     i = 0;
     if :: g != 0 -> goto execute :: else fi
  :: else
  fi;
  busy = 0;

  /* D1: nothing; give up the P (under sched.lock) */
  atomic {
    if
    :: stopping -> ok = 0
    :: !stopping && runqsize > 0 -> globrunqget(p, 0, g); ok = 0
    :: else -> mp[id] = NOP; pidleput(p); ok = 1   /* corio__pidleput(releasep(m)) */
    fi
  };
  if
  :: !ok && g != 0 -> goto execute
  :: !ok && g == 0 -> goto leave
  :: else
  fi;
  ok = 0;
  p = NOP;

  /* D2: a spinning M looks once more after it stops counting as spinning */
  was = mspinning[id];
  set_spinning(id, 0);
  if
  :: was ->
     was = 0;
#ifndef UNFIXED
     /* the global queue (Go: "check global and P runqueues again"): a
      * seq_cst load of runqsize, then under sched.lock an idle P and the
      * work */
     if
     :: runqsize > 0 ->
        atomic {
          if
          :: runqsize > 0 ->
             pidleget(p2);
             if
             :: p2 != NOP -> acquirep(id, p2); globrunqget(p2, 0, g); assert(g != 0)
             :: else
             fi
          :: else
          fi
        }
     :: else
     fi;
     if
     :: g != 0 -> p2 = NOP; set_spinning(id, 1); goto execute
     :: else
     fi;
#endif
     for (i : 0 .. NP - 1) {
       if
       :: len(lrq[i]) > 0 ->
          atomic { pidleget(p2) };   /* corio__pidleget_locking */
          if
          :: p2 != NOP -> acquirep(id, p2); p2 = NOP; set_spinning(id, 1); i = 0; goto top
          :: else
          fi;
          break
       :: else
       fi
     };
     i = 0
  :: else
  fi;

  /* D3 (no timer is armed: until == 0), D4: block in the poller, if anyone
   * waits on I/O and nobody else polls; else stopm */
  if
  :: corio__netpoll_waiters > 0 ->
     if
     :: atomic { lastpoll_nz -> lastpoll_nz = 0 } -> goto in_poll  /* the CAS lastpoll: last -> 0 */
     :: else
     fi
  :: else
  fi;
  goto stopm;

in_poll:
  /* corio__netpoll(delay): -1, or 0 once stopping */
  atomic { (kernel_ready || poll_break || stopping) -> polled = kernel_ready; kernel_ready = 0; poll_break = 0 };
  lastpoll_nz = 1;
  atomic { pidleget(p2) };   /* corio__pidleget_locking */
  if :: p2 != NOP -> acquirep(id, p2) :: else fi;
  if
  :: polled -> p2 = NOP; goto take_polled
  :: else
  fi;
  if :: p2 != NOP -> p2 = NOP; goto top :: else fi;
  goto stopm;

take_polled:
  /* corio__g_wake(G1); with a P, run it; without, queue it */
  polled = 0;
  if
  :: mp[id] != NOP -> g = G_IO;
     if :: npidle != 0 -> wakep(p2, m, gb) :: else fi;
     goto execute
  :: else ->
#ifdef UNFIXED
     atomic { globrunqput(G_IO) };   /* corio__globrunqput_locking */
     if :: npidle != 0 -> wakep(p2, m, gb) :: else fi;
#else
     /* corio__inject_nop: the Gs to the global queue under one lock, then
      * corio__start_idle: an idle P started for each (Go's injectglist) */
     atomic { globrunqput(G_IO) };
     atomic { pidleget(p2) };   /* corio__pidleget_locking */
     if :: p2 != NOP -> startm(p2, 0, m, gb) :: else fi;
#endif
     goto stopm
  fi;

stopm:
  atomic {
    if
    :: stopping -> ok = 0
    :: else -> park[id] = 1; midle[id] = 1; ok = 1
    fi
  };
  if :: !ok -> goto top :: else fi;
  ok = 0;
stopm_sleep:
  park[id] == 0;   /* corio__os_futex_wait(&m->park, 1, -1) */
  atomic { if :: nextp[id] != NOP -> acquirep(id, nextp[id]); nextp[id] = NOP :: else fi };
  goto top;

execute:
  /* reset_spinning: the last spinner that found work wakes another */
  if
  :: mspinning[id] ->
     set_spinning(id, 0);
     if :: nmspinning == 0 -> wakep(p2, m, gb) :: else fi
  :: else
  fi;
  /* corio__execute(m, g) */
  if
  :: g == G_IO ->
     corio__netpoll_waiters--;   /* block() after the wake-up: waiters_add(-1) */
#ifdef SPAWN
     atomic { lrq[mp[id]] ! G_SPAWNED };  /* corio__ready: runnable_put(m, G3, next) */
     wakep(p2, m, gb);
#endif
     skip
  :: else
  fi;
  atomic { done++; g = 0 };
  goto top;

leave:
  set_spinning(id, 0);
  atomic { if :: mp[id] != NOP -> pidleput(mp[id]); mp[id] = NOP :: else fi };
  nexited++
}

init {
  atomic {
    byte k;
    for (k : 0 .. NM - 1) { mp[k] = NOP; nextp[k] = NOP }
    for (k : 1 .. NP - 1) { pidle[k] = 1; npidle++ }
    mp[1] = 0;                    /* M1 holds P0 */
#ifdef NOIO
    corio__netpoll_waiters = 0; lastpoll_nz = 1;
    midle[0] = 1; park[0] = 1;
    run M(0, START_IDLE);
#else
    run M(0, START_POLLER);
#endif
    run M(1, START_RUN);
    for (k : 2 .. NM - 1) { midle[k] = 1; park[k] = 1; run M(k, START_IDLE) }
  }
}

ltl all_run { <> (done == NG) }
