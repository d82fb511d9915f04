package model

import "time"

// PluginVersion is one uploaded wasm module of a plugin.
type PluginVersion struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	PluginID   string
	Number     int
	SHA256     string `gorm:"column:sha256"`
	SizeBytes  int64
	ABIVersion int    `gorm:"column:abi_version"`
	Module     []byte `gorm:"column:module"`
	CreatedBy  string
	CreatedAt  time.Time
}
