package storage

import "context"

// ThrottleKeyHashesForTest lists the stored key hashes of the throttle
// table, for the test that no e-mail or address is stored as it is.
func (s *Store) ThrottleKeyHashesForTest(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	err := s.db.WithContext(ctx).Raw("SELECT key_hash FROM login_throttle ORDER BY key_hash").Scan(&out).Error
	return out, err
}

// KeyHashForTest is the stored form of key.
func (t *Throttle) KeyHashForTest(key string) []byte { return []byte(t.keyHash(key)) }
