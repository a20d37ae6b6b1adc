package state

import (
	"encoding/json"
	"testing"
)

func TestStageOrder(t *testing.T) {
	for i := range stages {
		for j := range stages {
			if got := stages[i].Before(stages[j]); got != (i < j) {
				t.Errorf("%s.Before(%s) = %v", stages[i], stages[j], got)
			}
		}
	}
	for _, s := range stages {
		if Stage("").Before(s) || s.Before("") {
			t.Errorf("the empty stage is ordered against %s", s)
		}
	}
}

// A record written before podrun kept stages reads with none.
func TestRecordWithoutStage(t *testing.T) {
	var p Pod
	if err := json.Unmarshal([]byte(`{"version":1,"uid":"u","namespace":"default","name":"web","netns":"/x"}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Stage != "" || p.NetNS != "/x" || p.Pin != nil {
		t.Errorf("read %+v", p)
	}
}
