package storage

import "context"

// MigrateToForTest applies the migrations up to and including version, so
// a test can write rows in an older schema and watch a later migration
// carry them.
func (s *Store) MigrateToForTest(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// ExecForTest runs one raw statement (tests of migrations write rows of
// tables the current code no longer maps).
func (s *Store) ExecForTest(ctx context.Context, query string, args ...any) error {
	return s.db.WithContext(ctx).Exec(query, args...).Error
}
