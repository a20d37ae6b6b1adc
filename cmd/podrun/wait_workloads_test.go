package main

import (
	"encoding/json"
	"testing"
)

// TestParseWorkloadFor: a condition of any kind's status.conditions, once
// observedGeneration has caught up; jsonpath; delete.
func TestParseWorkloadFor(t *testing.T) {
	obj := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	available := obj(`{"metadata":{"generation":2},"status":{"observedGeneration":2,"conditions":[{"type":"Available","status":"True"}]}}`)
	stale := obj(`{"metadata":{"generation":3},"status":{"observedGeneration":2,"conditions":[{"type":"Available","status":"True"}]}}`)
	complete := obj(`{"metadata":{"generation":1},"status":{"conditions":[{"type":"Complete","status":"True"},{"type":"Failed","status":"False"}]}}`)
	tests := []struct {
		for_ string
		obj  map[string]any
		want bool
	}{
		{"condition=Available", available, true},
		{"condition=available=true", available, true},
		{"condition=Available=False", available, false},
		{"condition=Available", stale, false},
		{"condition=Available", nil, false},
		{"condition=Complete", complete, true},
		{"condition=Failed", complete, false},
		{"condition=Failed=False", complete, true},
		{"jsonpath={.status.observedGeneration}=2", available, true},
		{"jsonpath={.status.conditions[0].type}=Complete", complete, true},
		{"delete", nil, true},
		{"delete", complete, false},
	}
	for _, tt := range tests {
		check, err := parseWorkloadFor(tt.for_)
		if err != nil {
			t.Fatalf("%s: %v", tt.for_, err)
		}
		if got, err := check(tt.obj); got != tt.want || err != nil {
			t.Errorf("--for=%s on %v: %v, %v; want %v", tt.for_, tt.obj, got, err, tt.want)
		}
	}
	if _, err := parseWorkloadFor("ready"); err == nil {
		t.Error("--for=ready was accepted")
	}
}
