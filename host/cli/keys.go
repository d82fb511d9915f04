package cli

import (
	"fmt"
	"io"
)

// keysMain runs `portico keys …`. Filled in by the launch work.
func keysMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "portico keys: not implemented yet")
	return 2
}
