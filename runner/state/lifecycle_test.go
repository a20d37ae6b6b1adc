package state

import (
	"fmt"
	"testing"
	"time"
)

func TestAddEvent(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var p Pod
	p.AddEvent(t0, "Warning", "Unhealthy", "spec.containers{a}", "Liveness probe failed")
	p.AddEvent(t0.Add(time.Second), "Normal", "Killing", "spec.containers{a}", "Stopping")
	p.AddEvent(t0.Add(2*time.Second), "Warning", "Unhealthy", "spec.containers{a}", "Liveness probe failed")
	if len(p.Events) != 2 || p.Events[0].Count != 2 || !p.Events[0].LastTime.Equal(t0.Add(2*time.Second)) || !p.Events[0].FirstTime.Equal(t0) {
		t.Fatalf("a repeated event was not counted: %+v", p.Events)
	}
	for i := range MaxEvents + 10 {
		p.AddEvent(t0, "Normal", "Started", "", fmt.Sprint(i))
	}
	if len(p.Events) != MaxEvents || p.Events[len(p.Events)-1].Message != fmt.Sprint(MaxEvents+9) {
		t.Errorf("%d events kept, last %+v", len(p.Events), p.Events[len(p.Events)-1])
	}
}
