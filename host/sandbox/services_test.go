package sandbox

import (
	"context"
	"errors"
	"sync"
)

// memServices is an in-memory Services for the tests, scoped by (tenant,
// plugin) like the real storage.
type memServices struct {
	mu      sync.Mutex
	kv      map[[3]string][]byte
	secrets map[[3]string]string
	maxKeys int
	fail    bool
}

func newMemServices() *memServices {
	return &memServices{kv: map[[3]string][]byte{}, secrets: map[[3]string]string{}, maxKeys: 3}
}

func (s *memServices) KVGet(_ context.Context, t, p, k string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, false, errors.New("database down")
	}
	v, ok := s.kv[[3]string{t, p, k}]
	return v, ok, nil
}

func (s *memServices) KVSet(_ context.Context, t, p, k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set(t, p, k, v)
}

func (s *memServices) KVUpdate(_ context.Context, t, p, k string, change func([]byte, bool) ([]byte, bool, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, found := s.kv[[3]string{t, p, k}]
	v, write, err := change(old, found)
	if err != nil || !write {
		return err
	}
	return s.set(t, p, k, v)
}

// set stores v within the quota; s.mu is held.
func (s *memServices) set(t, p, k string, v []byte) error {
	key := [3]string{t, p, k}
	if _, ok := s.kv[key]; !ok {
		n := 0
		for kk := range s.kv {
			if kk[0] == t && kk[1] == p {
				n++
			}
		}
		if n >= s.maxKeys {
			return ErrKVQuota
		}
	}
	s.kv[key] = append([]byte(nil), v...)
	return nil
}

func (s *memServices) KVDelete(_ context.Context, t, p, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.kv, [3]string{t, p, k})
	return nil
}

func (s *memServices) Secret(_ context.Context, t, p, name string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.secrets[[3]string{t, p, name}]
	return v, ok, nil
}
