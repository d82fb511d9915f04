package storage

import "gorm.io/gorm"

// GormForTest is the store's GORM handle, for tests that hook a query.
func GormForTest(s *Store) *gorm.DB { return s.db }
