/* Doc Flow's queue: one job, two runners and a rescuer (the janitor or an idle runner), with the
 * job's session lock, its lease, heartbeats and the attempt fence (README: states and
 * transitions). Checked by Tests/Model/check over every interleaving of claims, finishes, refused
 * grouped finishes (the quota CHECK), stalls (SIGSTOP / SIGCONT), deaths (kill -9) and one
 * PostgreSQL restart.
 *
 * Time is abstracted: a runner that is neither stalled nor dead renews its lease every third of
 * it and reconnects within a heartbeat, so it never `missed` a heartbeat; a stalled or dead one
 * may miss heartbeats and then its whole lease (`expired`), in that order. A restart renews
 * every lease (pg_postmaster_start_time in the rescue) and drops every session's locks.
 *
 * Safety properties (asserts):
 *   P1  a job is done at most once;
 *   P2  a rescue never takes an attempt whose owner renews its lease (the stolen retry);
 *   P3  a claim never hands out an attempt while another session holds the job's lock;
 *   P4  a live owner still converting holds its job's lock, or its session was dropped by the
 *       restart and it has not made its next statement yet (no lock is given up early).
 *
 * Variants that must fail (Spin finds a violating interleaving):
 *   -DOLD_RESCUE    a free lock alone lets a rescuer take the job (the old rescue)
 *   -DBUGGY_CLAIM   with it, the claim ignores a failed pg_try_advisory_lock (the old claim)
 *   -DBUGGY_UNLOCK  with it, the finish unlocks inside the statement the quota CHECK undoes */

#define PENDING    0
#define PROCESSING 1
#define DONE       2
#define FAILED     3
#define NONE       0
#define MAX_ATTEMPTS 3

byte status = PENDING;
byte attempt = 0;
byte owner = NONE;          /* runner of the current PROCESSING attempt */
byte lockOwner = NONE;      /* session holding the job's advisory lock */
bool stalled[3];            /* SIGSTOPped: alive, holds its session, renews nothing */
bool dead[3];               /* its session is gone (kill -9): its locks went with it */
bool lost[3];               /* its session was dropped by the restart; it reconnects on its next statement */
bool missed[3];             /* it missed a heartbeat (only while stalled or dead) */
bool expired[3];            /* its lease ran out (only after missing heartbeats) */
byte doneCount = 0;

#define renewing(r) (r != NONE && !missed[r])

/* A runner's next statement first reconnects (RunnerSession) and takes its job's lock again. */
inline reconnect(me, mine) {
    if
    :: lost[me] ->
       lost[me] = false;
       if
       :: status == PROCESSING && owner == me && attempt == mine && lockOwner == NONE -> lockOwner = me
       :: else -> skip
       fi
    :: else -> skip
    fi;
    /* any statement of a live runner renews its lease in time (the heartbeat) */
    if
    :: status == PROCESSING && owner == me && attempt == mine -> missed[me] = false; expired[me] = false
    :: else -> skip
    fi
}

inline final(s) {
    status = s;
    if :: s == DONE -> doneCount++; assert(doneCount <= 1)   /* P1 */
       :: else -> skip
    fi
}

proctype Runner(byte me) {
    byte mine;
    bool quotaFails;
end_idle:
    do
    :: atomic {   /* claim: one statement; the job's row is locked (SKIP LOCKED) meanwhile */
#ifdef BUGGY_CLAIM
           !dead[me] && !stalled[me] && status == PENDING && attempt < MAX_ATTEMPTS ->
           reconnect(me, mine);
           if :: lockOwner == NONE -> lockOwner = me :: else -> skip fi;   /* a failed try ignored */
#else
           /* a job whose lock another session holds is not handed out: the claim finds nothing */
           (!dead[me] && !stalled[me] && status == PENDING && attempt < MAX_ATTEMPTS && (lockOwner == NONE || lockOwner == me)) ->
           reconnect(me, mine);
           lockOwner = me;
#endif
           assert(lockOwner == me);   /* P3 */
           status = PROCESSING; attempt++; mine = attempt; owner = me;
           missed[me] = false; expired[me] = false   /* the claim sets a fresh lease */
       }
       /* converting: it may be stopped and continued, or killed, meanwhile */
       if
       :: skip
       :: stalled[me] = true;
          atomic { if :: skip :: missed[me] = true :: missed[me] = true; expired[me] = true fi };   /* how long it stood */
          atomic { stalled[me] = false; reconnect(me, mine) }   /* SIGCONT: its next statement renews */
       :: atomic { dead[me] = true; missed[me] = true; if :: lockOwner == me -> lockOwner = NONE :: else -> skip fi;
                   if :: skip :: expired[me] = true fi };
          break
       fi;
       /* finish: fenced by (status, attempt); the quota CHECK may undo it */
       if :: quotaFails = true :: quotaFails = false fi;
       atomic {
           reconnect(me, mine);
#ifdef BUGGY_UNLOCK
           if :: lockOwner == me -> lockOwner = NONE :: else -> skip fi;   /* unlock inside the statement */
#endif
           if
           :: status == PROCESSING && attempt == mine && !quotaFails -> final(DONE)
           :: else -> skip   /* undone by the quota CHECK, or no longer ours (refused, output removed) */
           fi
       };
       /* after a refused grouped finish: the job alone, failed for good (`quota_exceeded`) */
       if
       :: quotaFails ->
          atomic {
              reconnect(me, mine);
              if
              :: status == PROCESSING && attempt == mine ->
                 assert(lockOwner == me);   /* P4 (just reconnected, so the lock is back if it was free) */
                 final(FAILED)
              :: else -> skip
              fi
          }
       :: else -> skip
       fi;
       atomic { reconnect(me, mine); if :: lockOwner == me -> lockOwner = NONE :: else -> skip fi }   /* unlock after commit */
    od
}

proctype Rescuer() {
end_rescuer:
    do
    :: atomic {
#ifdef OLD_RESCUE
           status == PROCESSING && (expired[owner] || lockOwner == NONE) ->
#else
           status == PROCESSING && (expired[owner] || (lockOwner == NONE && missed[owner])) ->
#endif
           assert(!renewing(owner));   /* P2 */
           if :: attempt < MAX_ATTEMPTS -> status = PENDING :: else -> final(FAILED) fi
       }
    od
}

/* The server restarts once: every session and its locks go, every lease counts as renewed. */
proctype Server() {
    atomic { lockOwner = NONE; lost[1] = !dead[1]; lost[2] = !dead[2];
             expired[1] = false; expired[2] = false; missed[1] = dead[1]; missed[2] = dead[2] }
}

init {
    atomic { run Runner(1); run Runner(2); run Rescuer(); run Server() }
}
