package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"

	"github.com/portico-dev/portico/sdk/abi"
)

// errFlood stops a guest that keeps calling the host after its budget was
// spent and host_call returned -1.
var errFlood = errors.New("host call budget spent")

// hostCall implements portico.host_call(ptr, len) -> i32.
func (e *Engine) hostCall(ctx context.Context, mod api.Module, stack []uint64) {
	cs, _ := ctx.Value(callKey{}).(*callState)
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if cs == nil { // during _initialize: no call, no grants
		stack[0] = api.EncodeI32(-1)
		return
	}
	cs.hostCalls++
	if cs.hostCalls > cs.p.Limits.MaxHostCalls {
		if cs.flood {
			panic(errFlood)
		}
		cs.flood = true
		stack[0] = api.EncodeI32(-1)
		return
	}
	resp := cs.dispatch(ctx, mod, ptr, n)
	b, err := json.Marshal(resp)
	if err != nil {
		b = []byte(`{"error":{"code":"invalid","message":"response encoding failed"}}`)
	}
	cs.pending = b
	stack[0] = api.EncodeI32(int32(len(b)))
}

// hostResult implements portico.host_result(ptr): it copies the pending
// response to ptr. A bad pointer traps the guest.
func (e *Engine) hostResult(ctx context.Context, mod api.Module, stack []uint64) {
	cs, _ := ctx.Value(callKey{}).(*callState)
	if cs == nil {
		return
	}
	if cs.pending != nil && !mod.Memory().Write(api.DecodeU32(stack[0]), cs.pending) {
		panic(fmt.Errorf("host_result: buffer at %#x+%d is outside memory", api.DecodeU32(stack[0]), len(cs.pending)))
	}
	cs.pending = nil
}

func hostErr(code, format string, args ...any) *abi.HostResponse {
	return &abi.HostResponse{Error: &abi.HostError{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// parseHostRequest decodes a guest's host request.
func parseHostRequest(b []byte) (*abi.HostRequest, error) {
	if len(b) > MaxHostRequestBytes {
		return nil, fmt.Errorf("request of %d bytes exceeds the limit of %d", len(b), MaxHostRequestBytes)
	}
	var req abi.HostRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("request is not valid JSON: %w", err)
	}
	if req.Op == "" {
		return nil, errors.New("request has no op")
	}
	return &req, nil
}

// opGrants maps each operation to the grant it needs.
var opGrants = map[string]string{
	abi.OpHTTP:      GrantHTTP,
	abi.OpKVGet:     GrantKV,
	abi.OpKVSet:     GrantKV,
	abi.OpKVDelete:  GrantKV,
	abi.OpKVIncr:    GrantKV,
	abi.OpKVCAS:     GrantKV,
	abi.OpSecretGet: GrantSecrets,
	abi.OpLog:       GrantLog,
}

func (cs *callState) dispatch(ctx context.Context, mod api.Module, ptr, n uint32) *abi.HostResponse {
	if n > MaxHostRequestBytes {
		return hostErr(abi.ErrLimit, "request of %d bytes exceeds the limit of %d", n, MaxHostRequestBytes)
	}
	raw, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return hostErr(abi.ErrInvalid, "request at %#x+%d is outside memory", ptr, n)
	}
	req, err := parseHostRequest(raw)
	if err != nil {
		return hostErr(abi.ErrInvalid, "%s", err.Error())
	}
	grant, known := opGrants[req.Op]
	if !known {
		return hostErr(abi.ErrInvalid, "unknown op %q", req.Op)
	}
	if !cs.grants[grant] {
		return hostErr(abi.ErrGrantMissing, "op %q needs the %q grant, which this plugin does not have", req.Op, grant)
	}
	if req.Op == abi.OpLog {
		return cs.logLine(req)
	}
	// The other operations wait on the network or the database: the call
	// gives its execution slot back meanwhile, so that a tenant's calls
	// waiting on a slow ERP do not keep its other calls from running.
	cs.slot.park()
	var resp *abi.HostResponse
	switch req.Op {
	case abi.OpHTTP:
		resp = cs.e.doHTTP(ctx, cs, req)
	case abi.OpKVGet, abi.OpKVSet, abi.OpKVDelete, abi.OpKVIncr, abi.OpKVCAS:
		resp = cs.kv(ctx, req)
	default:
		resp = cs.secret(ctx, req)
	}
	if err := cs.slot.resume(ctx); err != nil {
		// Only the call's deadline (or its cancellation) ends the wait:
		// the guest must not run again without a slot, so the call stops
		// here, classified as the timeout it is.
		panic(err)
	}
	return resp
}

func validKey(k string) error {
	switch {
	case k == "":
		return errors.New("empty key")
	case len(k) > MaxKVKey:
		return fmt.Errorf("key of %d bytes exceeds the limit of %d", len(k), MaxKVKey)
	case !utf8.ValidString(k) || strings.ContainsRune(k, 0):
		return errors.New("key is not valid UTF-8 text")
	}
	return nil
}

func (cs *callState) kv(ctx context.Context, req *abi.HostRequest) *abi.HostResponse {
	if err := validKey(req.Key); err != nil {
		if len(req.Key) > MaxKVKey {
			return hostErr(abi.ErrLimit, "%s", err.Error())
		}
		return hostErr(abi.ErrInvalid, "%s", err.Error())
	}
	svc := cs.e.opts.Services
	if svc == nil {
		return hostErr(abi.ErrUpstream, "the key-value store is not available")
	}
	t, p := cs.p.TenantID, cs.p.PluginID
	var err error
	switch req.Op {
	case abi.OpKVGet:
		v, found, gerr := svc.KVGet(ctx, t, p, req.Key)
		if gerr == nil {
			if !found {
				return &abi.HostResponse{}
			}
			if v == nil {
				v = []byte{}
			}
			return &abi.HostResponse{Value: v, Found: true}
		}
		err = gerr
	case abi.OpKVSet:
		if len(req.Value) > MaxKVValue {
			return hostErr(abi.ErrLimit, "value of %d bytes exceeds the limit of %d", len(req.Value), MaxKVValue)
		}
		v := req.Value
		if v == nil {
			v = []byte{}
		}
		err = svc.KVSet(ctx, t, p, req.Key, v)
	case abi.OpKVDelete:
		err = svc.KVDelete(ctx, t, p, req.Key)
	case abi.OpKVIncr, abi.OpKVCAS:
		if len(req.Value) > MaxKVValue {
			return hostErr(abi.ErrLimit, "value of %d bytes exceeds the limit of %d", len(req.Value), MaxKVValue)
		}
		var resp abi.HostResponse
		err = svc.KVUpdate(ctx, t, p, req.Key, func(old []byte, found bool) ([]byte, bool, error) {
			v, write, r, err := abi.KVChange(req, old, found)
			resp = r
			return v, write, err
		})
		if errors.Is(err, abi.ErrNotInteger) {
			return hostErr(abi.ErrInvalid, "the value of %q is not a decimal integer, or the sum leaves int64", req.Key)
		}
		if err == nil {
			return &resp
		}
	}
	if errors.Is(err, ErrKVQuota) {
		return hostErr(abi.ErrLimit, "key-value quota exceeded (%d keys, %d bytes per plugin)", MaxKVKeys, MaxKVBytes)
	}
	if err != nil {
		cs.logServiceError("plugin kv failed", err, "op", req.Op)
		return hostErr(abi.ErrUpstream, "the key-value store failed")
	}
	return &abi.HostResponse{}
}

func (cs *callState) secret(ctx context.Context, req *abi.HostRequest) *abi.HostResponse {
	if req.Name == "" || len(req.Name) > MaxSecretName {
		return hostErr(abi.ErrInvalid, "a secret name has 1 to %d bytes", MaxSecretName)
	}
	svc := cs.e.opts.Services
	if svc == nil {
		return hostErr(abi.ErrUpstream, "secrets are not available")
	}
	v, found, err := svc.Secret(ctx, cs.p.TenantID, cs.p.PluginID, req.Name)
	if err != nil {
		cs.logServiceError("plugin secret failed", err, "name", req.Name)
		return hostErr(abi.ErrUpstream, "the secret could not be read")
	}
	if !found {
		return hostErr(abi.ErrNotFound, "no secret named %q", req.Name)
	}
	return &abi.HostResponse{Value: []byte(v), Found: true}
}

// Log levels a plugin may use.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

const maxLogAttrs = abi.MaxLogAttrs

func (cs *callState) logLine(req *abi.HostRequest) *abi.HostResponse {
	level := req.Level
	if level == "" {
		level = "info"
	}
	lv, ok := logLevels[level]
	if !ok {
		return hostErr(abi.ErrInvalid, "unknown log level %q (debug, info, warn, error)", req.Level)
	}
	if len(req.Attrs) > maxLogAttrs {
		return hostErr(abi.ErrLimit, "%d attributes exceed the limit of %d", len(req.Attrs), maxLogAttrs)
	}
	size := len(req.Message)
	for k, v := range req.Attrs {
		size += len(k) + len(v)
	}
	lim := cs.p.Limits
	if cs.logLines+1 > lim.MaxLogLines {
		return hostErr(abi.ErrLimit, "more than %d log lines in one call", lim.MaxLogLines)
	}
	if cs.logBytes+size > lim.MaxLogBytes {
		return hostErr(abi.ErrLimit, "more than %d log bytes in one call", lim.MaxLogBytes)
	}
	cs.logLines++
	cs.logBytes += size
	cs.st.addLog(LogEntry{At: time.Now(), Level: level, Message: req.Message, Attrs: req.Attrs})
	args := cs.logAttrs()
	if len(req.Attrs) > 0 {
		attrs := make([]any, 0, len(req.Attrs))
		for k, v := range req.Attrs {
			attrs = append(attrs, slog.String(k, v))
		}
		args = append(args, slog.Group("attrs", attrs...))
	}
	cs.e.opts.PluginLog.Log(context.Background(), lv, "plugin log: "+req.Message, args...)
	return &abi.HostResponse{}
}

// logServiceError logs a failed KV or secret host call: a warning while the
// store is unreachable (ErrServiceUnavailable), an error otherwise.
func (cs *callState) logServiceError(msg string, err error, attrs ...any) {
	attrs = append(append(cs.logAttrs(), attrs...), "error", err)
	if errors.Is(err, ErrServiceUnavailable) {
		cs.e.log.Warn(msg, attrs...)
		return
	}
	cs.e.log.Error(msg, attrs...)
}
