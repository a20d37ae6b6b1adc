package flock

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestLockContention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	ctx := context.Background()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex // only to read and write inside safely for the race detector
		holders int
		max     int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				l, err := Exclusive(ctx, path)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				holders++
				max = maxInt(max, holders)
				mu.Unlock()
				time.Sleep(100 * time.Microsecond)
				mu.Lock()
				holders--
				mu.Unlock()
				if err := l.Unlock(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if max != 1 {
		t.Errorf("%d holders at once, want 1", max)
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestLockContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := Exclusive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryExclusive(path); !errors.Is(err, ErrLocked) {
		t.Errorf("TryExclusive of a held lock = %v, want ErrLocked", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Exclusive(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock of a held lock = %v, want DeadlineExceeded", err)
	}
	l.Unlock()
	l.Unlock() // twice is harmless
	l2, err := TryExclusive(path)
	if err != nil {
		t.Fatalf("TryExclusive after Unlock: %v", err)
	}
	l2.Unlock()
}

// TestLockRemoved checks that a waiter does not end up holding the lock of
// a file that its holder removed, while a newcomer locks a new file.
func TestLockRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := Exclusive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Lock)
	go func() {
		l2, err := Exclusive(context.Background(), path)
		if err != nil {
			t.Error(err)
		}
		got <- l2
	}()
	time.Sleep(20 * time.Millisecond) // let it wait on the old file
	os.Remove(path)
	l.Unlock()
	l2 := <-got
	defer l2.Unlock()
	if _, err := TryExclusive(path); !errors.Is(err, ErrLocked) {
		t.Errorf("TryExclusive while the waiter holds the lock = %v, want ErrLocked", err)
	}
}

// TestLockChildProcess checks that a lock held by another process blocks
// us until that process dies.
func TestLockChildProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PODRUN_TEST_HOLD_LOCK="+path)
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	if _, err := TryExclusive(path); !errors.Is(err, ErrLocked) {
		t.Errorf("TryExclusive while the child holds the lock = %v, want ErrLocked", err)
	}
	got := make(chan error, 1)
	go func() {
		l, err := Exclusive(context.Background(), path)
		if err == nil {
			l.Unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock returned %v while the child held the lock", err)
	case <-time.After(100 * time.Millisecond):
	}
	cmd.Process.Kill() // death, not Unlock, releases it
	cmd.Wait()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lock still waiting after the child died")
	}
}

// TestShared: shared locks coexist and keep an exclusive one out; an
// exclusive lock turned shared lets other sharers in.
func TestShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	ctx := context.Background()
	a, err := Shared(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Shared(ctx, path)
	if err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	if _, err := TryExclusive(path); !errors.Is(err, ErrLocked) {
		t.Errorf("TryExclusive under shared locks = %v, want ErrLocked", err)
	}
	a.Unlock()
	b.Unlock()

	x, err := TryExclusive(path)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := Shared(short, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shared under an exclusive lock = %v, want DeadlineExceeded", err)
	}
	if err := x.Share(); err != nil {
		t.Fatal(err)
	}
	s, err := Shared(ctx, path)
	if err != nil {
		t.Fatalf("Shared after Share: %v", err)
	}
	s.Unlock()
	x.Unlock()
}

// TestDirectory: a directory is locked as it is, not replaced by a file.
func TestDirectory(t *testing.T) {
	dir := t.TempDir()
	l, err := Exclusive(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryExclusive(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("TryExclusive of a held directory = %v, want ErrLocked", err)
	}
	l.Unlock()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the directory after locking: %v, %v", fi, err)
	}
}
