//go:build !linux

package agent

import "syscall"

// slotCgroup is Linux's: elsewhere a job's processes are found only through
// its process groups, and those that leave them are not.
type slotCgroup struct{}

func cgroupsUsable() bool { return false }

func (g *slotCgroup) populated() bool { return false }

func (g *slotCgroup) killLeft() {}

func (g *slotCgroup) remove() {}

func (g *slotCgroup) sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
