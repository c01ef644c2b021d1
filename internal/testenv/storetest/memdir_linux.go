package storetest

import "syscall"

// memDir is a memory file system with room for tests' SQLite files, or "".
func memDir() string {
	const dir = "/dev/shm"
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type != 0x01021994 /* TMPFS_MAGIC */ {
		return ""
	}
	if uint64(st.Bavail)*uint64(st.Bsize) < 2<<30 { // a container's 64 MiB default is too small
		return ""
	}
	return dir
}
