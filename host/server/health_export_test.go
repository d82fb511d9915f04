package server

import "time"

// SetHealthPublishIntervalForTest makes the servers started from now on
// publish their plugin health every d instead of HealthPublishInterval;
// the returned function restores the default.
func SetHealthPublishIntervalForTest(d time.Duration) (restore func()) {
	healthEvery.Store(int64(d))
	return func() { healthEvery.Store(0) }
}
