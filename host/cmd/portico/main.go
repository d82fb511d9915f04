// Command portico runs the Portico customer portal. See README.md.
package main

import (
	"os"

	"github.com/portico-dev/portico/host/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
