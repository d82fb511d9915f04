package storage

import "context"

// SetPluginHealthColumnForTest writes value into column (last_errors or
// logs) of every row of the plugin, as a node with other ideas (or an
// operator with psql) could: the reads must survive it.
func (s *Store) SetPluginHealthColumnForTest(ctx context.Context, pluginID, column, value string) error {
	return s.db.WithContext(ctx).Model(&pluginHealthRow{}).Where("plugin_id = ?", pluginID).Update(column, value).Error
}

// CountPluginHealthForTest counts every stored row, current or stale.
func (s *Store) CountPluginHealthForTest(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&pluginHealthRow{}).Count(&n).Error
	return n, err
}

// EncodeHealthListForTest and DecodeHealthListForTest expose the list
// codec of the logs column.
func EncodeHealthListForTest(logs []HealthLog) string {
	return encodeHealthList(logs, PluginHealthMaxLogs, clipHealthLog)
}

func DecodeHealthListForTest(s string) []HealthLog {
	return decodeHealthList(s, PluginHealthMaxLogs, clipHealthLog)
}
