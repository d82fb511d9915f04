package storage

import (
	"context"
	"time"
)

// InsertPasswordResetForTest stores a reset link's token hash as it is,
// without invalidating the user's other links: the state a database
// written before links invalidated each other can hold.
func (s *Store) InsertPasswordResetForTest(ctx context.Context, tenantID, userID, tokenHash string, ttl time.Duration) error {
	now := s.Now()
	return s.db.WithContext(ctx).Create(&passwordReset{TokenHash: tokenHash, TenantID: tenantID, UserID: userID,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}).Error
}
