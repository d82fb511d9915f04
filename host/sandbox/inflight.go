package sandbox

// InFlight returns how many calls of a plugin hold one of its concurrency
// slots right now in this process (loading, instantiating or running).
// It is a read-only view for tests and monitoring.
func (e *Engine) InFlight(tenantID, pluginID string) int {
	e.mu.Lock()
	st := e.plugins[pluginKey{tenantID, pluginID}]
	e.mu.Unlock()
	if st == nil {
		return 0
	}
	return len(st.slotsChan())
}
