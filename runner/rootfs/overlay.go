package rootfs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/host"
)

// pageSize bounds mount(2) data.
const pageSize = 4096

// mountOverlay mounts an overlay of lowers (top first) at target.
func mountOverlay(target string, lowers []string, upper, work string) error {
	err := mountNewAPI(target, lowers, upper, work)
	if errors.Is(err, errNoLowerdirPlus) {
		return mountLegacy(target, lowers, upper, work)
	}
	return err
}

var errNoLowerdirPlus = errors.New(`overlayfs has no "lowerdir+" parameter`)

func mountNewAPI(target string, lowers []string, upper, work string) error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("opening overlay file system: %w", err)
	}
	defer unix.Close(fsfd)
	for _, l := range lowers {
		if err := setDir(fsfd, "lowerdir+", l); err != nil {
			if errors.Is(err, unix.EINVAL) {
				return errNoLowerdirPlus
			}
			return withLog(fsfd, fmt.Errorf("adding lower dir %s: %w", l, err))
		}
	}
	if err := setDir(fsfd, "upperdir", upper); err != nil {
		return withLog(fsfd, fmt.Errorf("setting upper dir: %w", err))
	}
	if err := setDir(fsfd, "workdir", work); err != nil {
		return withLog(fsfd, fmt.Errorf("setting work dir: %w", err))
	}
	if host.OverlayUserXattr() {
		if err := unix.FsconfigSetFlag(fsfd, "userxattr"); err != nil {
			return withLog(fsfd, fmt.Errorf("setting userxattr (a user namespace needs overlayfs of kernel 5.11 or later): %w", err))
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return withLog(fsfd, fmt.Errorf("creating overlay: %w", err))
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return withLog(fsfd, fmt.Errorf("mounting overlay: %w", err))
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attaching overlay at %s: %w", target, err)
	}
	return nil
}

// setDir passes dir to the overlay as key: by file descriptor where the
// kernel takes one, else by path.
func setDir(fsfd int, key, dir string) error {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.FsconfigSetFd(fsfd, key, fd); err == nil {
		return nil
	}
	return unix.FsconfigSetString(fsfd, key, dir)
}

// withLog adds the messages the kernel left in the file system context.
func withLog(fsfd int, err error) error {
	var msgs []string
	buf := make([]byte, 1024)
	for {
		n, rerr := unix.Read(fsfd, buf)
		if rerr != nil || n <= 0 {
			break
		}
		msgs = append(msgs, strings.TrimSpace(string(buf[:n])))
	}
	if len(msgs) == 0 {
		return err
	}
	return fmt.Errorf("%w (kernel: %s)", err, strings.Join(msgs, "; "))
}

// mountLegacy mounts with mount(2), whose data must fit a page.
func mountLegacy(target string, lowers []string, upper, work string) error {
	esc := make([]string, len(lowers))
	for i, l := range lowers {
		esc[i] = escape(l)
	}
	data := "lowerdir=" + strings.Join(esc, ":") + ",upperdir=" + escape(upper) + ",workdir=" + escape(work)
	if host.OverlayUserXattr() {
		data += ",userxattr"
	}
	if len(data) >= pageSize {
		return fmt.Errorf("mounting overlay: %d layers make %d bytes of options, more than mount(2) takes on this kernel", len(lowers), len(data))
	}
	if err := unix.Mount("overlay", target, "overlay", 0, data); err != nil {
		return fmt.Errorf("mounting overlay: %w", err)
	}
	return nil
}

func escape(p string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`).Replace(p)
}

func unmount(target string) error {
	err := unix.Unmount(target, unix.UMOUNT_NOFOLLOW)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}
