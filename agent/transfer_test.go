package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// TestWriteBelowSurvivesConcurrentCleanup runs jobs that each write a
// file into the same new folder and then clean up as --cleanup does:
// their file, then the folders they made once empty. Another job's
// cleanup can remove the folder between its making and the write, and
// every write must still land.
func TestWriteBelowSurvivesConcurrentCleanup(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "gz", "sub")
	var wg sync.WaitGroup
	for job := range 2 {
		wg.Go(func() {
			path := filepath.Join(dir, "f"+strconv.Itoa(job))
			for i := range 1000 {
				created, err := writeBelow(root, path, func() error { return os.WriteFile(path, []byte("x"), 0o644) })
				if err != nil {
					t.Errorf("job %d, write %d: %v", job, i, err)
					return
				}
				os.Remove(path)
				for i := len(created) - 1; i >= 0; i-- {
					os.Remove(created[i])
				}
			}
		})
	}
	wg.Wait()
}
