// Package admin holds what the managers' two edges share. The admin is
// split by role, like miniflux's internal/ui and internal/api over one
// storage:
//
//	admin/service  every change: validation, versioning, audit, module checks
//	admin/api      the JSON API under /api/v1/admin (and the module upload gate)
//	admin/ui       the HTML pages under /admin and /reset (templates, assets, forms)
//	admin          this package: the one table mapping the service's errors to
//	               answers (Classify), module upload parsing, the runtime adapter,
//	               a plugin's health across the nodes (PluginHealth)
//
// host/server builds the service and mounts both edges; neither edge calls
// the other.
package admin
