package admin

import (
	"context"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/model"
)

// Runtime adapts the wasm engine to what the admin service needs of it;
// nil when there is no engine (uploads then answer wasm_unavailable).
func Runtime(e *sandbox.Engine) service.Runtime {
	if e == nil {
		return nil
	}
	return engineRuntime{e}
}

type engineRuntime struct{ e *sandbox.Engine }

func (engineRuntime) MaxModuleBytes() int { return sandbox.MaxModuleBytes }

// CheckModule checks module under the limits p runs with.
func (r engineRuntime) CheckModule(ctx context.Context, module []byte, p *model.Plugin) (int, error) {
	info, err := r.e.CheckUnder(ctx, module, runner.SandboxPlugin(p).Limits)
	if err != nil {
		return 0, err
	}
	return info.ABIVersion, nil
}

func (r engineRuntime) Evict(tenantID, versionID string) { r.e.Evict(tenantID, versionID) }
