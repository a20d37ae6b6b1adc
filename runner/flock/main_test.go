package flock

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("PODRUN_TEST_HOLD_LOCK"); path != "" {
		os.Exit(holdLock(path))
	}
	os.Exit(m.Run())
}

// holdLock is the child process of the lock tests: it takes the lock,
// says so on stdout, and holds it until stdin closes or it is killed.
func holdLock(path string) int {
	l, err := Exclusive(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	l.Unlock()
	return 0
}
