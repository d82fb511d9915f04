// Package migrations embeds Portico's versioned SQL schema.
//
// There is one folder per dialect (sqlite, postgres) with the same version
// numbers, run by goose. Migrations are forward-only: a migration that has
// shipped is never edited; a change is a new numbered file in both folders.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
