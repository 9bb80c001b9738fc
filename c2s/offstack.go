package c2s

import "time"

// offStack runs f on another goroutine and waits for it. A goroutine's
// stack shrinks only during garbage collection, by half at a time and only
// while most of it is unused, so work that needs a deep stack (TLS
// handshakes, SASL, storage) runs elsewhere. The connection's goroutine,
// which waits for input for the life of an idle session, keeps a small
// stack.
//
// The goroutines that run f wait for more work for stackWorkerIdle before
// they exit. A new goroutine starts with a small stack and copies it each
// time it doubles, which cost about a tenth of the CPU time of a login
// when every call started one.
func offStack(f func() error) error {
	done := make(chan error, 1)
	j := stackJob{f: f, done: done}
	select {
	case stackJobs <- j:
	default:
		go stackWorker(j)
	}
	return <-done
}

// stackWorkerIdle is how long a goroutine of offStack waits for its next
// call before it exits.
const stackWorkerIdle = 2 * time.Second

type stackJob struct {
	f    func() error
	done chan<- error
}

// stackJobs passes calls of offStack to idle workers. It is unbuffered,
// so a call goes either to a worker that is waiting or to a new one.
var stackJobs = make(chan stackJob)

func stackWorker(j stackJob) {
	idle := time.NewTimer(stackWorkerIdle)
	defer idle.Stop()
	for {
		j.done <- j.f()
		idle.Reset(stackWorkerIdle)
		select {
		case j = <-stackJobs:
		case <-idle.C:
			return
		}
	}
}
