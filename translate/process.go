package translate

import (
	"errors"
	"path"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// processArgs decides what a container runs, by Kubernetes' rules over the
// image config (as containerd's CRI plugin applies them):
//
//   - command replaces the image's ENTRYPOINT and drops its CMD;
//   - args replaces the image's CMD and keeps its ENTRYPOINT;
//   - neither: ENTRYPOINT followed by CMD.
//
// An ENTRYPOINT of one empty string counts as none, as Docker writes it.
func processArgs(command, args []string, img Image, fp *field.Path) ([]string, error) {
	var argv []string
	switch {
	case len(command) > 0:
		argv = append(slices.Clone(command), args...)
	default:
		entrypoint := img.Entrypoint
		if len(entrypoint) == 1 && entrypoint[0] == "" {
			entrypoint = nil
		}
		if len(args) == 0 {
			args = img.Cmd
		}
		argv = append(slices.Clone(entrypoint), args...)
	}
	if len(argv) == 0 {
		return nil, fieldErrorf(fp, "%w: set command or args, or use an image with an ENTRYPOINT or CMD", ErrNoCommand)
	}
	return argv, nil
}

// containerEnv lists what a container adds to its environment, in order,
// over DefaultSpec's PATH: HOSTNAME as containerd's CRI plugin sets it, the
// image's Env, then the environment the kubelet makes (kubeEnv). mergeEnv
// applies them so that a later entry replaces an earlier one of the same
// name in its first place.
func containerEnv(kenv []string, img Image, hostname string) []string {
	env := []string{"HOSTNAME=" + hostname}
	env = append(env, img.Env...)
	return append(env, kenv...)
}

// configErrorOf splits err into a configError, which keeps one container
// waiting, and any other error, which fails the pod. The configError is
// returned as a FieldError about the field a FieldError in err's chain
// names, else about fp (the container).
func configErrorOf(err error, fp *field.Path) (*FieldError, error) {
	var ce *configError
	if !errors.As(err, &ce) {
		return nil, err
	}
	cfg := &FieldError{Field: fp.String(), Err: ce}
	var fe *FieldError
	if errors.As(err, &fe) {
		cfg.Field = fe.Field
	}
	return cfg, nil
}

// workingDir is the container's workingDir, else the image's, else "/".
func workingDir(c *corev1.Container, img Image, fp *field.Path) (string, error) {
	switch {
	case c.WorkingDir != "":
		if !path.IsAbs(c.WorkingDir) {
			return "", fieldErrorf(fp.Child("workingDir"), "%q is not an absolute path", c.WorkingDir)
		}
		return path.Clean(c.WorkingDir), nil
	case img.WorkingDir != "":
		if !path.IsAbs(img.WorkingDir) {
			return "", fieldErrorf(fp.Child("image"), "image %s has a relative WorkingDir %q", img.Ref, img.WorkingDir)
		}
		return path.Clean(img.WorkingDir), nil
	}
	return "/", nil
}

func cleanPath(p string) string { return path.Clean("/" + p) }
