// Command portico runs the Portico customer portal. See README.md.
package main

import (
	"os"

	"github.com/portico-dev/portico/host/cli"
	"github.com/portico-dev/portico/internal/sqldb"
)

func main() {
	sqldb.RestrictFileModes() // the database, its journals, backups: the owner's only
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
