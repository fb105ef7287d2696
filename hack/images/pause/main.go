// Command pause is the sandbox ("pause") process of a Kubernetes pod on wicked's development node: it holds
// the pod's namespaces open and does nothing else. As PID 1 of a pod that shares its process namespace it
// also reaps orphaned children, so no zombies accumulate. SIGTERM or SIGINT ends it with status 0.
//
// Build it static (CGO_ENABLED=0): the image holds this one binary and nothing else.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 {
		if os.Args[1] == "-v" || os.Args[1] == "--version" {
			fmt.Println("wicked pause 1")
			return
		}
		fmt.Fprintln(os.Stderr, "usage: pause [--version]")
		os.Exit(2)
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	reap() // children inherited before the handler was installed
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		os.Exit(0)
	}
}

// reap collects every child that has exited; one SIGCHLD may stand for several children.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
