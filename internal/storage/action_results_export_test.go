package storage

import (
	"context"

	"github.com/portico-dev/portico/internal/model"
)

// CountActionResultsForTest counts every stored action result, expired or
// not, so a test can see what the sweep removed.
func (s *Store) CountActionResultsForTest(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&model.ActionResult{}).Count(&n).Error
	return n, err
}
