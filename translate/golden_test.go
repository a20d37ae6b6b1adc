package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenImages are the image configs golden pods run; any other reference
// gets busyboxImage.
var goldenImages = map[string]Image{
	"docker.io/library/nginx:1.27": {
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.27.0"},
		Entrypoint: []string{"/docker-entrypoint.sh"},
		Cmd:        []string{"nginx", "-g", "daemon off;"},
		StopSignal: "SIGQUIT",
	},
	"localhost/app:1": {
		Env:        []string{"PATH=/app/bin:/usr/bin:/bin"},
		Entrypoint: []string{"/app/bin/server"},
		Cmd:        []string{"--port=8080"},
		WorkingDir: "/app",
		User:       "app",
	},
}

var busyboxImage = Image{
	Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	Cmd: []string{"sh"},
}

// goldenInput is the fixed Input every golden pod is translated with.
func goldenInput(pod *corev1.Pod) Input {
	in := Input{
		Pod:    pod,
		Images: map[string]Image{},
		UserDB: map[string]fs.FS{},
		Host: Host{
			NodeName:       "node1",
			HostIP:         "192.168.1.10",
			ResolvConf:     []byte("nameserver 192.168.1.1\nsearch example.com\noptions ndots:2\n"),
			ClusterDNS:     []string{"10.96.0.10"},
			Hosts:          []byte("127.0.0.1\tlocalhost\n192.168.1.10\tnode1\n"),
			SeccompDefault: testSeccomp,
			SwapAccounting: true,
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("4"),
				corev1.ResourceMemory: resource.MustParse("8Gi"),
			},
		},
		Layout: Layout{Dir: "/run/podrun/pods/" + string(pod.UID)},
		PodIP:  "10.90.0.5",
		Pause:  "/usr/local/bin/podrun",
	}
	if pod.Spec.HostNetwork {
		in.PodIP = ""
	}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			img, ok := goldenImages[c.Image]
			if !ok {
				img = busyboxImage
			}
			img.Ref = c.Image
			in.Images[c.Name] = img
			in.UserDB[c.Name] = busyboxDB
		}
	}
	return in
}

// TestGolden translates every testdata/*.yaml pod (written with the API
// server's defaults spelled out) and compares the result with
// testdata/golden/<file>/.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.yaml")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var pod corev1.Pod
			if err := yaml.UnmarshalStrict(data, &pod); err != nil {
				t.Fatalf("decoding %s: %v", file, err)
			}
			checkGolden(t, filepath.Join("testdata", "golden", name), goldenInput(&pod))
		})
	}
}

// goldenPlan is what of a plan is not in the specs and files.
type goldenPlan struct {
	Init       []string
	Containers []string
	Files      []goldenFile
	Mounts     []Mount
	Ports      []Port
	PodNetwork bool
	Pin        []string
}

type goldenFile struct {
	Path string
	Mode string
}

// checkGolden translates in and compares, in dir, each container's
// config.json (<name>.json, POD.json for the infra), the pod files
// (files/<name>) and the rest of the plan (Plan.json). Container names are
// lowercase DNS labels, so neither POD nor Plan can clash with one.
func checkGolden(t *testing.T, dir string, in Input) {
	t.Helper()
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	summary := goldenPlan{Mounts: plan.Mounts, Ports: plan.Ports, PodNetwork: plan.PodNetwork()}
	for _, ns := range plan.Pin {
		summary.Pin = append(summary.Pin, ns.Type)
	}
	for _, c := range append(append([]Container{plan.Infra}, plan.Init...), plan.Containers...) {
		got[c.Name+".json"] = marshal(t, c.Spec)
	}
	for _, c := range plan.Init {
		summary.Init = append(summary.Init, c.Name)
	}
	for _, c := range plan.Containers {
		summary.Containers = append(summary.Containers, c.Name)
	}
	for _, f := range plan.Files {
		got[filepath.Join("files", filepath.Base(f.Path))] = f.Data
		summary.Files = append(summary.Files, goldenFile{Path: f.Path, Mode: f.Mode.String()})
	}
	got["Plan.json"] = marshal(t, summary)

	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, data := range got {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("%v: run go test ./translate -update and review the new golden files", err)
	}
	for name, data := range got {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%v (run go test ./translate -update and review the diff)", err)
			continue
		}
		if diff := cmp.Diff(string(want), string(data)); diff != "" {
			t.Errorf("%s differs from its golden file (-want +got); if intended, run go test ./translate -update:\n%s", filepath.Join(dir, name), diff)
		}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if _, ok := got[rel]; !ok {
			t.Errorf("stale golden file %s (run go test ./translate -update)", p)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
