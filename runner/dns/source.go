package dns

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/podrun/podrun/runner/objects"
)

// Source gives the cluster's Services and EndpointSlices, of every
// namespace, as they are now.
type Source interface {
	Cluster() (*Cluster, error)
}

// Cluster is one reading of a Source, indexed for lookups. It is never
// changed once made, so that a Source may hand the same one to several
// queries.
type Cluster struct {
	services map[string]*corev1.Service              // by "namespace/name"
	slices   map[string][]*discoveryv1.EndpointSlice // by their Service's "namespace/name"
	ptr      map[netip.Addr][]string                 // names of Service and endpoint addresses
}

// NewCluster indexes services and slices; a slice belongs to the Service
// its kubernetes.io/service-name label names, in its namespace.
func NewCluster(services []*corev1.Service, slices []*discoveryv1.EndpointSlice) *Cluster {
	c := &Cluster{
		services: map[string]*corev1.Service{},
		slices:   map[string][]*discoveryv1.EndpointSlice{},
		ptr:      map[netip.Addr][]string{},
	}
	for _, s := range services {
		c.services[s.Namespace+"/"+s.Name] = s
	}
	for _, sl := range slices {
		name := sl.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		key := sl.Namespace + "/" + name
		c.slices[key] = append(c.slices[key], sl)
	}
	c.indexPTR()
	return c
}

// indexPTR names each ClusterIP after its Service and each endpoint
// address of a headless Service after its endpoint.
func (c *Cluster) indexPTR() {
	for _, s := range c.services {
		for _, ip := range clusterIPs(s) {
			c.ptr[ip] = append(c.ptr[ip], serviceName(s.Name, s.Namespace))
		}
		if !headless(s) {
			continue
		}
		for _, ep := range c.endpoints(s) {
			c.ptr[ep.addr] = append(c.ptr[ep.addr], ep.host+"."+serviceName(s.Name, s.Namespace))
		}
	}
}

// Static is a Source that always gives the same Cluster.
type Static struct{ C *Cluster }

// Cluster returns s.C.
func (s Static) Cluster() (*Cluster, error) { return s.C, nil }

// Store is the Source of an objects.Store: it reads the stored Services
// and EndpointSlices again only when a directory of theirs has changed
// since the last reading, so that a query costs a few stat calls.
type Store struct {
	store *objects.Store

	mu     sync.Mutex
	stamps map[string]time.Time // directory -> modification time at the last reading
	read   time.Time            // when the last reading began
	last   *Cluster
}

// NewStore is the Source of the objects stored under dir (objects.Open).
func NewStore(dir string) *Store { return &Store{store: objects.Open(dir)} }

// settle is how long after a directory's last change a reading is
// trusted: a change within the file system's timestamp granularity of the
// reading may not have moved the modification time.
const settle = 100 * time.Millisecond

// Cluster returns the stored objects, read again if they have changed.
func (s *Store) Cluster() (*Cluster, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last != nil && s.fresh() {
		return s.last, nil
	}
	began := time.Now()
	stamps, err := s.stampAll()
	if err != nil {
		return nil, err
	}
	svcs, err := s.store.Services.All()
	if err != nil {
		return nil, fmt.Errorf("reading the stored Services: %w", err)
	}
	slices, err := s.store.EndpointSlices.All()
	if err != nil {
		return nil, fmt.Errorf("reading the stored EndpointSlices: %w", err)
	}
	s.last, s.stamps, s.read = NewCluster(svcs, slices), stamps, began
	return s.last, nil
}

// fresh says no directory changed since the last reading, and none had
// changed just before it. A new namespace's directory changes its
// bucket's.
func (s *Store) fresh() bool {
	for dir, was := range s.stamps {
		t, _ := mtime(dir)
		if !t.Equal(was) || s.read.Sub(t) < settle {
			return false
		}
	}
	return true
}

// stampAll takes the modification times of the buckets' directories and
// of their namespaces' directories.
func (s *Store) stampAll() (map[string]time.Time, error) {
	stamps := map[string]time.Time{}
	for _, dir := range []string{s.store.Services.Dir(), s.store.EndpointSlices.Dir()} {
		t, err := mtime(dir)
		if err != nil {
			return nil, err
		}
		stamps[dir] = t
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			sub := dir + "/" + e.Name()
			if stamps[sub], err = mtime(sub); err != nil {
				return nil, err
			}
		}
	}
	return stamps, nil
}

// mtime is dir's modification time, zero when it does not exist.
func mtime(dir string) (time.Time, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading %s: %w", dir, err)
	}
	return fi.ModTime(), nil
}
