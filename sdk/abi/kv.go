package abi

import (
	"errors"
	"math"
	"strconv"
)

// ErrNotInteger is AddDecimal's error for a stored value that is not a
// decimal integer, or a sum outside int64's range.
var ErrNotInteger = errors.New("the value is not a decimal integer within int64")

// AddDecimal is the one rule of kv.incr, used by every implementation of
// the store: old (when found) must be a decimal integer ("-12", "0",
// "42"; no sign "+", no spaces, no leading zeros beyond "0") and old +
// delta must fit in an int64. It returns the new value as stored text and
// as a number.
func AddDecimal(old []byte, found bool, delta int64) ([]byte, int64, error) {
	var n int64
	if found {
		s := string(old)
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || strconv.FormatInt(v, 10) != s {
			return nil, 0, ErrNotInteger
		}
		n = v
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return nil, 0, ErrNotInteger
	}
	n += delta
	return []byte(strconv.FormatInt(n, 10)), n, nil
}

// KVChange is the one rule of the atomic operations kv.incr and kv.cas:
// given the request and the key's current value (found false: absent), it
// returns the value to store (write false: store nothing) and the answer
// to give. Every store applies it inside its own atomic update (the
// server's transaction, the test harness's map). A kv.incr on a value
// that is not a decimal integer returns ErrNotInteger.
func KVChange(req *HostRequest, old []byte, found bool) (value []byte, write bool, resp HostResponse, err error) {
	switch req.Op {
	case OpKVIncr:
		v, _, err := AddDecimal(old, found, req.Delta)
		if err != nil {
			return nil, false, HostResponse{}, err
		}
		return v, true, HostResponse{Value: v, Found: true}, nil
	case OpKVCAS:
		value := req.Value
		if value == nil {
			value = []byte{}
		}
		if (req.Absent && !found) || (!req.Absent && found && string(old) == string(req.Expect)) {
			return value, true, HostResponse{Value: value, Found: true, Swapped: true}, nil
		}
		return nil, false, HostResponse{Value: old, Found: found}, nil
	}
	return nil, false, HostResponse{}, errors.New("not an atomic kv operation: " + req.Op)
}
