package services

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/state"
)

// eventsDir holds the events of each namespace's Services.
func eventsDir(runRoot string) string { return filepath.Join(runRoot, "services", "events") }

func eventsPath(runRoot, namespace, name string) (string, error) {
	for _, part := range []string{namespace, name} {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\x00") {
			return "", fmt.Errorf("service events: invalid namespace or name %q", part)
		}
	}
	return filepath.Join(eventsDir(runRoot), namespace, name+".json"), nil
}

// Events returns the events recorded for Service namespace/name, oldest
// first: a Warning FailedToFindPort for each selected pod left out of a
// port, while it is left out. A Service without any has none.
func Events(runRoot, namespace, name string) ([]corev1.Event, error) {
	p, err := eventsPath(runRoot, namespace, name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the events of service %s/%s: %w", namespace, name, err)
	}
	var events []corev1.Event
	if err := json.Unmarshal(data, &events); err != nil {
		return nil, fmt.Errorf("decoding the events of service %s/%s from %s: %w", namespace, name, p, err)
	}
	return events, nil
}

// recordEvents keeps one event per missing port of svc: those already
// recorded keep their time, those resolved are dropped. The file is
// written only when that changes anything.
func (s *syncer) recordEvents(svc *corev1.Service, missing []kube.MissingPort) error {
	old, err := Events(s.cfg.RunRoot, svc.Namespace, svc.Name)
	if err != nil {
		return err
	}
	byMessage := map[string]corev1.Event{}
	for _, e := range old {
		byMessage[e.Message] = e
	}
	var events []corev1.Event
	for _, m := range missing {
		if e, ok := byMessage[m.Message]; ok {
			events = append(events, e)
			continue
		}
		now := metav1.NewTime(s.cfg.now().Truncate(time.Second))
		events = append(events, corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: fmt.Sprintf("%s.%s.%s", svc.Name, m.Pod, m.TargetPort)},
			InvolvedObject: corev1.ObjectReference{
				APIVersion: "v1", Kind: "Service", Namespace: svc.Namespace, Name: svc.Name, UID: svc.UID,
			},
			Type: corev1.EventTypeWarning, Reason: m.Reason, Message: m.Message, Count: 1,
			FirstTimestamp: now, LastTimestamp: now,
			Source: corev1.EventSource{Component: "endpointslice-controller"},
		})
	}
	return s.writeEvents(svc.Namespace, svc.Name, old, events)
}

func (s *syncer) writeEvents(namespace, name string, old, events []corev1.Event) error {
	p, err := eventsPath(s.cfg.RunRoot, namespace, name)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		if len(old) == 0 {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the events of service %s/%s: %w", namespace, name, err)
		}
		return nil
	}
	a, _ := json.Marshal(old)
	b, err := json.Marshal(events)
	if err != nil {
		return err
	}
	if string(a) == string(b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("recording the events of service %s/%s: %w", namespace, name, err)
	}
	if err := state.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("recording the events of service %s/%s: %w", namespace, name, err)
	}
	return nil
}

// pruneEvents removes the events of ns's Services that are gone.
func (s *syncer) pruneEvents(ns string, svcs []*corev1.Service) error {
	entries, err := os.ReadDir(filepath.Join(eventsDir(s.cfg.RunRoot), ns))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing the events of namespace %s's services: %w", ns, err)
	}
	live := map[string]bool{}
	for _, svc := range svcs {
		live[svc.Name+".json"] = true
	}
	for _, e := range entries {
		if !live[e.Name()] && strings.HasSuffix(e.Name(), ".json") {
			os.Remove(filepath.Join(eventsDir(s.cfg.RunRoot), ns, e.Name()))
		}
	}
	return nil
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}
