/* The poll descriptor's read waiter slot (runtime/netpoll/netpoll.c), with
 * event delivery, deadline expiry, deadline moves and close racing one
 * waiting coroutine, across a close and a reuse of the same descriptor.
 *
 * Names follow the C code: PD_NIL / PD_READY / PD_WAIT and a waiter record
 * (WREC, the address of the parked G's waiter_t) in pd->rg; the info word's
 * INFO_CLOSING and INFO_RD_EXPIRED; pd->closing, pd->rd, pd->rseq,
 * pd->rt_armed and pd->fdseq under pd->lock; the deadline timer pd->rt (its
 * heap membership, when and seq, under a P's tlock). Functions are modelled
 * one inline or block each with the C function's name: check_err,
 * unblock_slot, commit, block, corio__pd_reset(pd, 'r'),
 * corio__pd_wait(pd, 'r'), set_one_deadline, corio__pd_set_deadline,
 * deadline_fired, corio__pd_unblock, corio__pd_close / cache_free,
 * corio__pd_open, corio__netpoll_ready_event, corio__run_timers,
 * corio__ready.
 *
 * Processes: the reading coroutine (Reader), the closer that also reopens
 * the descriptor (Closer), a coroutine moving the read deadline (Setter),
 * the kernel reporting readiness with the tag it was registered under
 * (Kernel), two Ms running due timers (TimerM: a firing taken out of one
 * heap can overlap a re-armed firing on another M; -DONE_TIMER_M keeps one)
 * and a quiescence observer (Quiet). The monotonic clock moves forward when
 * a TimerM fires the earliest timer (to its time, if not there yet); the
 * Setter picks deadlines relative to it.
 *
 * Checked (see check.sh; all safety, plus the invalid-end-state check):
 *  - wake once: corio__ready asserts the G is parked (C: "ready of a
 *    coroutine that is not parked"), so no G is woken twice;
 *  - no lost wake-up: when nothing can move any more, a G parked since its
 *    last PD_WAIT is not owed a wake-up by a delivery, expiry or close that
 *    came after it (Quiet), and no armed deadline of an open descriptor has
 *    lost its timer;
 *  - READY never consumed twice: every wait that returns OK and every
 *    reset that drops a READY consumes one delivery counted by ev_cnt;
 *  - a stale timer never fires a newer deadline: deadline_fired, once its
 *    sequence check passes, finds the deadline armed, positive and not
 *    after the clock (a firing early or for a moved deadline fails here);
 *  - the C code's own fatal checks ("double wait", "corrupted poll
 *    descriptor", "close ... with a waiter", "inconsistent ... deadline").
 *
 * Abstracted away: the write slot (symmetric, its own lock-free word and
 * timer), the event-error flag and the hang-up hint, the I/O waiter count
 * (corio__netpoll_waiters, waiters_add: a counter beside the protocol),
 * memory orders (the C code makes every access here seq_cst; spin explores
 * sequentially consistent interleavings), time as a small integer clock,
 * the timer heap as one timer.
 */

#define NIL   0
#define READY 1
#define WAIT  2
#define WREC  3   /* a parked waiter's waiter_t address (> PD_WAIT) */

#define POLL_OK      0
#define POLL_CLOSING 1
#define POLL_TIMEOUT 2

#define G_RUNNING  0
#define G_WAITING  1   /* parked */
#define G_RUNNABLE 2

#ifndef NOPEN
#define NOPEN 2        /* opens of the same descriptor (one reuse) */
#endif
#ifndef NWAIT
#define NWAIT 2        /* reset + wait rounds per open */
#endif
#ifndef NSET
#define NSET 2         /* deadline moves per open */
#endif
#ifndef NEV
#define NEV 2          /* readiness reports from the kernel */
#endif
#ifndef MAXT
#define MAXT 3         /* the clock runs 0..MAXT */
#endif

/* ---- lock-free words ---- */
byte rg = NIL;                 /* pd->rg */
bit  info_closing;             /* pd->info: INFO_CLOSING */
bit  info_rd_expired;          /* pd->info: INFO_RD_EXPIRED */
byte fdseq = 1;                /* pd->fdseq */

/* ---- under pd->lock ---- */
bit  pdlock;
bit  closing;                  /* pd->closing */
bit  rt_armed;                 /* pd->rt_armed */
byte rseq;                     /* pd->rseq */
short rd;                      /* pd->rd: 0 none, > 0 deadline, -1 expired */

/* ---- the timer pd->rt (under its heap's tlock) ---- */
bit  t_inheap;                 /* t->heap != NULL */
byte t_when;
byte t_seq;

/* ---- the parked coroutine ---- */
byte gstate = G_RUNNING;
bit  w_io;                     /* waiter_t.io, written by its waker */

/* ---- environment ---- */
byte now;                      /* corio__nanotime() */
byte opened = 1;               /* which open of the descriptor is live (0: in the cache) */
bit  registered = 1;           /* on the poller (between netpoll_open and netpoll_close) */
byte reg_tag = 1;              /* fdseq the handle was registered under */
bit  fd_closed;                /* the FD's fdMutex closed bit */
byte reader_done, setter_done; /* the last open each of them finished with */

/* ---- ghosts for the properties ---- */
bit  owed;                     /* a wake-up became due since the G's last PD_WAIT */
byte ev_cnt;                   /* deliveries not yet consumed */

inline unlock_pd() { pdlock = 0 }

/* publish_info, under pd->lock: recompute the info word from the locked
 * fields (one CAS on the word). */
inline publish_info() { info_closing = closing; info_rd_expired = (rd < 0) }

inline check_err(err) {
  atomic {
    if
    :: info_closing -> err = POLL_CLOSING
    :: !info_closing && info_rd_expired -> err = POLL_TIMEOUT
    :: else -> err = POLL_OK
    fi
  }
}

/* Leave pd->lock, then corio__ready the G unblock_slot took out, if any.
 * (One step: nobody can reach the G in between, its slot says NIL.) */
inline unlock_and_ready(g) {
  atomic {
    pdlock = 0;
    if :: g -> assert(gstate == G_WAITING); gstate = G_RUNNABLE; g = 0 :: else fi
  }
}

/* Under pd->lock. g is set when a parked G was taken out. */
inline unblock_slot(ioready, g, old) {
  old = rg;   /* seq_cst load: the closer's half of the Dekker pattern with block() */
  do
  :: old == READY -> break
  :: old == NIL && !ioready -> break
  :: old == WREC ->
     atomic {
       w_io = ioready;      /* the waker says why in the waiter_t ... */
       if :: ioready -> ev_cnt++ :: else fi;
       rg = NIL;            /* ... and stores NIL: only lock holders write a parked slot */
       g = 1;
       break
     }
  :: else ->  /* NIL (ioready) or WAIT: compare-and-swap towards next */
     atomic {
       if
       :: rg == old ->
          if
          :: ioready -> rg = READY; ev_cnt++
          :: else -> rg = NIL
          fi;
          break
       :: else -> old = rg
       fi
     }
  od;
  old = 0
}

/* ---- the reader ---- */

/* block(pd, 'r', false): res = the handle became ready. */
inline block(res, v, err, committed) {
  v = rg;
  do
  :: v == READY ->
     atomic { if :: rg == READY -> rg = NIL; res = 1; v = 0; goto block_done :: else -> v = rg fi }
  :: v == NIL ->
     atomic { if :: rg == NIL -> rg = WAIT; owed = 0; v = 0; break :: else -> v = rg fi }
  :: else -> assert(false) /* "double wait on a poll descriptor" */
  od;
  check_err(err);
  if
  :: err == POLL_OK ->
     /* corio__park_io(commit, &w): after_switch marks the G waiting, then
      * commit publishes the waiter record unless someone got there first
      * (then corio__ready(g): the G resumes at once). */
     atomic {
       if
       :: rg == WAIT -> rg = WREC; gstate = G_WAITING; committed = 1
       :: else
       fi
     }
  :: else
  fi;
  if
  :: committed ->
end_parked:
     atomic { gstate == G_RUNNABLE -> gstate = G_RUNNING; res = w_io; committed = 0 }
  :: else ->
     /* not parked, or a waker beat the commit: exchange, keeping a READY */
     atomic { assert(rg <= WAIT); /* "corrupted poll descriptor" */ res = (rg == READY); rg = NIL }
  fi;
block_done:
  atomic { err = 0; if :: res -> assert(ev_cnt > 0); ev_cnt-- :: else fi }
}

active proctype Reader() {
  byte k, i, err, v;
  bit res, committed;
  for (k : 1 .. NOPEN) {
    opened == k;
    i = 0;
    do
    :: i < NWAIT ->
       i++;
       /* corio__pd_reset(pd, 'r') */
       check_err(err);
       if :: err != POLL_OK -> break :: else fi;
       if
       :: rg != NIL ->
          atomic {
            assert(rg <= READY);
            if :: rg == READY -> assert(ev_cnt > 0); ev_cnt-- :: else fi;
            rg = NIL
          }
       :: else
       fi;
       /* the read attempt would block: corio__pd_wait(pd, 'r') */
       check_err(err);
       if :: err != POLL_OK -> break :: else fi;
       do
       :: res = 0;
          block(res, v, err, committed);
          if :: res -> break :: else fi;
          check_err(err);
          if :: err != POLL_OK -> break :: else fi
          /* woken by a deadline moved again before we ran: wait on */
       od;
       if :: err == POLL_CLOSING -> break :: else -> err = 0; res = 0 fi
    :: else -> break
    od;
    atomic { reader_done = k; i = 0; err = 0; res = 0 }
  }
}

/* ---- deadlines ---- */

inline timer_reset(when, seq) { t_when = when; t_seq = seq; t_inheap = 1 }
inline timer_stop()           { t_inheap = 0; t_when = 0; t_seq = 0 }

/* Under pd->lock (the timer calls take the heap's tlock inside). */
inline set_one_deadline(d, old) {
  old = rd;
  rd = d;
  if
  :: !rt_armed ->
     if :: d > 0 -> rt_armed = 1; timer_reset(d, rseq) :: else fi
  :: rt_armed && d == old
  :: rt_armed && d != old ->
     rseq++;   /* a firing of the old setting, already under way, does nothing */
     if
     :: d > 0 -> timer_reset(d, rseq)
     :: else -> timer_stop(); rt_armed = 0
     fi
  fi;
  old = 0
}

proctype Setter() {
  byte k, n, v;
  short d, old;
  bit g, held;
  for (k : 1 .. NOPEN) {
    opened == k;
    n = 0;
    do
    :: n < NSET && !fd_closed ->  /* the call holds a reference to the FD */
       n++;
       /* the caller's absolute deadline: none, soon, later, or already past;
        * corio__pd_set_deadline turns a passed one into -1 */
       if
       :: d = 0
       :: now + 1 <= MAXT -> d = now + 1
       :: now + 2 <= MAXT -> d = now + 2
       :: d = -1
       fi;
       atomic {
         pdlock == 0 -> pdlock = 1;
         if
         :: closing -> pdlock = 0   /* ignored once closing */
         :: else ->
            held = 1;
            set_one_deadline(d, old);
            publish_info();   /* before unblock_slot: a waiter that sees NIL sees the expiry */
            if :: rd < 0 -> owed = 1 :: else fi
         fi
       };
       if
       :: held && rd < 0 -> unblock_slot(0, g, v); unlock_and_ready(g)
       :: held && rd >= 0 -> unlock_pd()
       :: else
       fi;
       held = 0;
       d = 0
    :: else -> break
    od;
    setter_done = k
  }
}

/* A due timer fired (scheduler context): deadline_fired(pd, seq, 'r'). */
inline deadline_fired(seq, g, v) {
  atomic {
    pdlock == 0 -> pdlock = 1;
    if
    :: seq != rseq -> pdlock = 0; seq = 0  /* moved, closed or reused since it was armed */
    :: else ->
       assert(rd > 0 && rt_armed);  /* "inconsistent poll descriptor deadline" */
       assert(rd <= now);           /* never before the deadline last set */
       rd = -1;
       rt_armed = 0;
       publish_info();
       owed = 1
    fi
  };
  if
  :: seq != 0 -> seq = 0; unblock_slot(0, g, v); unlock_and_ready(g)
  :: else
  fi
}

proctype TimerM() {
  byte seq, v;
  bit g;
end:
  do
  :: atomic {  /* corio__run_timers, once the clock has reached the earliest timer */
       t_inheap ->
       if :: now < t_when -> now = t_when :: else fi;
       seq = t_seq; t_inheap = 0; t_when = 0; t_seq = 0
     };
     deadline_fired(seq, g, v)
  od
}

/* ---- readiness ---- */

proctype Kernel() {
  byte n, tag, v;
  bit g;
  for (n : 1 .. NEV) {
    /* an edge on the handle, reported with the tag it was registered under */
    if
    :: atomic { registered -> tag = reg_tag }
    :: break
    fi;
    /* corio__netpoll_ready_event(pd, tag, ..., 'r', 0, out); the G it
     * returns is made runnable by the poller's caller */
    if
    :: fdseq != tag -> tag = 0   /* corio__pd_current: stale */
    :: else ->
       atomic {
         pdlock == 0 -> pdlock = 1;
         if
         :: fdseq != tag -> pdlock = 0; tag = 0
         :: else -> owed = 1
         fi
       };
       if
       :: tag != 0 -> tag = 0; unblock_slot(1, g, v); unlock_and_ready(g)
       :: else
       fi
    fi
  }
}

/* ---- close and reuse ---- */

proctype Closer() {
  byte k, v;
  bit g;
  for (k : 1 .. NOPEN) {
    if
    :: k > 1 ->
       /* corio__pd_open: the same descriptor from the cache, registered */
       atomic {
         pdlock == 0 -> pdlock = 1;
         assert(rg == NIL || rg == READY); /* "blocked waiter on a free poll descriptor" */
         closing = 0;
         rseq++;
         rg = NIL;
         ev_cnt = 0;   /* a READY left by the previous user is gone */
         rd = 0;
         info_closing = 0; info_rd_expired = 0;
         pdlock = 0
       };
       atomic { registered = 1; reg_tag = fdseq; fd_closed = 0; opened = k }
    :: else
    fi;
    /* the FD's close: sets the fdMutex closed bit, then corio__pd_unblock */
    if
    :: k == NOPEN -> if :: skip :: break fi /* the last user may never close */
    :: else
    fi;
    fd_closed = 1;
    atomic {
      pdlock == 0 -> pdlock = 1;
      assert(!closing); /* "unblock of a closing poll descriptor" */
      closing = 1;
      rseq++;
      publish_info();
      owed = 1
    };
    unblock_slot(0, g, v);
    atomic { if :: rt_armed -> timer_stop(); rt_armed = 0 :: else fi };
    unlock_and_ready(g);
    /* the last reference goes: corio__pd_close */
    reader_done == k && setter_done == k;
    assert(info_closing);
    assert(rg == NIL || rg == READY); /* "close of a poll descriptor with a waiter" */
    registered = 0;  /* corio__netpoll_close */
    atomic {  /* cache_free */
      pdlock == 0 -> pdlock = 1;
      fdseq++;
      rseq++;
      publish_info();
      pdlock = 0;
      opened = 0
    }
  }
}

/* When nothing can move any more: nobody is left parked with a wake-up owed,
 * and no deadline that has passed is still waiting for its timer. */
proctype Quiet() {
  timeout ->
  assert(!(gstate == G_WAITING && owed));
  /* an armed deadline whose timer is in no heap (the TimerMs are idle) */
  assert(!(opened != 0 && !closing && rd > 0 && !t_inheap))
}

init {
  atomic {
    rseq = 1;
    run Setter(); run TimerM();
#ifndef ONE_TIMER_M
    run TimerM();
#endif
    run Kernel(); run Closer(); run Quiet()
  }
}
