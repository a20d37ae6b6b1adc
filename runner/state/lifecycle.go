package state

import "time"

// Exit is a container's finished run, kept as its LastState once the
// container has been restarted.
type Exit struct {
	ExitCode   int       `json:"exitCode"`
	Signal     int       `json:"signal,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// SubPath is a container's volumeMount with a subPath: Path (expanded)
// inside the volume at Source, bind-mounted at Staging for the runtime.
type SubPath struct {
	Volume  string `json:"volume"`
	Source  string `json:"source"`
	Path    string `json:"path"`
	Staging string `json:"staging"`
}

// Condition is one of a pod's conditions with the time it last changed,
// which the monitor keeps and the status reports.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"` // "True", "False" or "Unknown"
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// Event is what a kubelet (or the scheduler) would post to the API server
// about the pod: a Normal or Warning event, counted when it repeats.
type Event struct {
	Type string `json:"type"` // "Normal" or "Warning"
	// Component is who posts it: "" for the kubelet, "default-scheduler".
	Component string    `json:"component,omitempty"`
	Reason    string    `json:"reason"`
	Object    string    `json:"object,omitempty"` // "spec.containers{web}", or "" for the pod
	Message   string    `json:"message"`
	Count     int       `json:"count"`
	FirstTime time.Time `json:"firstTime"`
	LastTime  time.Time `json:"lastTime"`
}

// MaxEvents bounds the events a pod keeps; the oldest go first.
const MaxEvents = 100

// AddEvent records an event at now. An event repeating the last one with
// the same reason, object and message is counted instead of kept twice.
func (p *Pod) AddEvent(now time.Time, typ, reason, object, message string) {
	p.AddEventFrom(now, "", typ, reason, object, message)
}

// AddEventFrom is AddEvent for an event another component posts: the
// scheduler's FailedScheduling, say.
func (p *Pod) AddEventFrom(now time.Time, component, typ, reason, object, message string) {
	for i := len(p.Events) - 1; i >= 0 && i >= len(p.Events)-5; i-- {
		e := &p.Events[i]
		if e.Component == component && e.Type == typ && e.Reason == reason && e.Object == object && e.Message == message {
			e.Count++
			e.LastTime = now
			return
		}
	}
	p.Events = append(p.Events, Event{Type: typ, Component: component, Reason: reason, Object: object, Message: message, Count: 1, FirstTime: now, LastTime: now})
	if n := len(p.Events) - MaxEvents; n > 0 {
		p.Events = append(p.Events[:0], p.Events[n:]...)
	}
}

// SetCondition sets condition typ, keeping its transition time unless its
// status changes.
func (p *Pod) SetCondition(now time.Time, typ, status, reason, message string) {
	for i := range p.Conditions {
		c := &p.Conditions[i]
		if c.Type != typ {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message = status, reason, message
		return
	}
	p.Conditions = append(p.Conditions, Condition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: now})
}

// FindCondition returns condition typ, or nil.
func (p *Pod) FindCondition(typ string) *Condition {
	for i := range p.Conditions {
		if p.Conditions[i].Type == typ {
			return &p.Conditions[i]
		}
	}
	return nil
}
