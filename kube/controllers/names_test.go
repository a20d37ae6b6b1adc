package controllers

import (
	"strings"
	"testing"
	"time"
)

func TestTemplateHash(t *testing.T) {
	a, b := template("nginx:1"), template("nginx:2")
	ha := TemplateHash(&a, nil)
	if ha != TemplateHash(&a, nil) {
		t.Errorf("hash not deterministic")
	}
	for _, h := range []string{ha, TemplateHash(&b, nil), TemplateHash(&a, ptr(int32(1)))} {
		if len(h) < 1 || len(h) > 10 || strings.Trim(h, alphabet) != "" {
			t.Errorf("hash %q: want 1 to 10 characters of %q", h, alphabet)
		}
	}
	if ha == TemplateHash(&b, nil) {
		t.Errorf("two templates share hash %q", ha)
	}
	if ha == TemplateHash(&a, ptr(int32(1))) {
		t.Errorf("a collision count does not change hash %q", ha)
	}
	if TemplateHash(&a, ptr(int32(0))) == ha {
		t.Errorf("collision count 0 hashes as none; the controller writes it")
	}
}

func TestNames(t *testing.T) {
	long := strings.Repeat("j", 70)
	tests := []struct{ name, got, want string }{
		{"replica set", ReplicaSetName("web", "5d9c7b8f"), "web-5d9c7b8f"},
		{"stateful pod", StatefulSetPodName("db", 2), "db-2"},
		{"claim", ClaimName("data", "db", 1), "data-db-1"},
		{"job pod", JobPodBase("pi", -1), "pi-"},
		{"indexed job pod", JobPodBase("pi", 3), "pi-3-"},
		{"long indexed job pod keeps its index", JobPodBase(long, 12), strings.Repeat("j", 54) + "-12-"},
		{"cron job", CronJobJobName("hello", time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)), "hello-29453761"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestGenerateName(t *testing.T) {
	r := seeded()
	name := GenerateName("web-abc-", r, nil)
	if !strings.HasPrefix(name, "web-abc-") || len(name) != len("web-abc-")+5 || strings.Trim(name[8:], alphabet) != "" {
		t.Errorf("GenerateName = %q", name)
	}
	if again := GenerateName("web-abc-", seeded(), map[string]bool{name: true}); again == name {
		t.Errorf("a taken name %q was given again", name)
	}
	if got := GenerateName(strings.Repeat("x", 80), r, nil); len(got) != 63 {
		t.Errorf("long base: %d characters, want 63", len(got))
	}
}

func TestOwnerReference(t *testing.T) {
	rs := template("x").ObjectMeta
	rs.Name, rs.UID = "web-1", "u1"
	ref := OwnerReference("apps/v1", "ReplicaSet", &rs)
	if !*ref.Controller || !*ref.BlockOwnerDeletion || ref.UID != "u1" || ref.Name != "web-1" || ref.Kind != "ReplicaSet" {
		t.Errorf("OwnerReference = %+v", ref)
	}
}
