package cli

import (
	"fmt"
	"io"
)

// pluginMain runs `portico plugin check|run …`. Filled in by the wasm work.
func pluginMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "portico plugin: not implemented yet")
	return 2
}
