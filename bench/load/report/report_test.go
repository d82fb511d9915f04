package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// wrkOut is the output of wrk 4.1.0 (Debian) with --latency.
const wrkOut = `Running 3s test @ http://127.0.0.1:40127/api/v1/me/menu
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.12ms    1.36ms  31.02ms   91.08%
    Req/Sec    15.68k     1.02k   16.95k    80.00%
  Latency Distribution
     50%    3.87ms
     75%    4.31ms
     90%    5.02ms
     99%   10.44ms
  46823 requests in 3.00s, 40.01MB read
Requests/sec:  15602.37
Transfer/sec:     13.33MB
`

func TestParseWrk(t *testing.T) {
	errs := strings.Replace(wrkOut, "Requests/sec:",
		"  Socket errors: connect 0, read 2, write 0, timeout 12\n  Non-2xx or 3xx responses: 5\nRequests/sec:", 1)
	for _, tc := range []struct {
		name string
		out  string
		want Wrk
		err  string
	}{
		{"ok", wrkOut, Wrk{Requests: 46823, Duration: 3 * time.Second, RPS: 15602.37, P50: 3870 * time.Microsecond,
			P99: 10440 * time.Microsecond}, ""},
		{"errors counted", errs, Wrk{Requests: 46823, Duration: 3 * time.Second, RPS: 15602.37, P50: 3870 * time.Microsecond,
			P99: 10440 * time.Microsecond, Non2xx: 5, SocketErrors: 14}, ""},
		{"microseconds and seconds", strings.NewReplacer("3.87ms", "523.00us", "10.44ms", "1.02s", "in 3.00s,", "in 1.00m,").Replace(wrkOut),
			Wrk{Requests: 46823, Duration: time.Minute, RPS: 15602.37, P50: 523 * time.Microsecond, P99: 1020 * time.Millisecond}, ""},
		{"without --latency", strings.Replace(strings.Replace(wrkOut, "     50%    3.87ms\n", "", 1), "     99%   10.44ms\n", "", 1),
			Wrk{}, "lacks 50%, 99%"},
		{"no rate", strings.Replace(wrkOut, "Requests/sec:  15602.37\n", "", 1), Wrk{}, "lacks Requests/sec"},
		{"connection refused", "unable to connect to 127.0.0.1:1 Connection refused\n", Wrk{}, "lacks 50%, 99%, Requests/sec, requests in"},
		{"bad unit", strings.Replace(wrkOut, "3.87ms", "3.87xx", 1), Wrk{}, "no unit"},
		{"negative", strings.Replace(wrkOut, "15602.37", "-1", 1), Wrk{}, "not a non-negative number"},
		{"not a number", strings.Replace(wrkOut, "15602.37", "NaN", 1), Wrk{}, "not a non-negative number"},
		{"absurd latency", strings.Replace(wrkOut, "10.44ms", "100000.00h", 1), Wrk{}, "over a day"},
		{"bad socket errors", strings.Replace(errs, "read 2,", "read x,", 1), Wrk{}, "socket errors"},
		{"too long", wrkOut + strings.Repeat("x", MaxOutput), Wrk{}, "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWrk(tc.out)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

const benchOut = `goos: linux
goarch: amd64
pkg: github.com/portico-dev/portico/host/launch
cpu: AMD EPYC
BenchmarkExchange/postgres         	    2000	    809836 ns/op	      1235 exchanges/s	        11.50 p50_ms	        29.56 p99_ms
--- BENCH: BenchmarkExchange/postgres
    bench_test.go:89: postgres: 2000 exchanges in 1.619670274s
BenchmarkSingleUse/insert-2        	    2000	    138828 ns/op	         1.732 p50_ms	         7.781 p99_ms	      7203 statements/s
BenchmarkMint   32271	     39836 ns/op	    1736 B/op	       6 allocs/op
BenchmarkNoopLatency/sandbox         	    2000	     60284 ns/op	        57.06 p50-µs	       131.4 p99-µs
PASS
ok  	github.com/portico-dev/portico/host/launch	4.545s
`

func TestParseBench(t *testing.T) {
	bs, err := ParseBench(benchOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, unit string
		want       float64
		err        string
	}{
		{"BenchmarkExchange/postgres", "exchanges/s", 1235, ""},
		{"BenchmarkExchange/postgres", "p99_ms", 29.56, ""},
		{"BenchmarkSingleUse/insert", "statements/s", 7203, ""}, // the -2 suffix is gone
		{"BenchmarkMint", "ns/op", 39836, ""},
		{"BenchmarkNoopLatency/sandbox", "p50-µs", 57.06, ""},
		{"BenchmarkMint", "p99_ms", 0, "reported no p99_ms"},
		{"BenchmarkSignEd25519", "ns/op", 0, "no result"},
	} {
		got, err := Find(bs, tc.name, tc.unit)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %s: err %v, want %q", tc.name, tc.unit, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %s = %v, %v; want %v", tc.name, tc.unit, got, err, tc.want)
		}
	}
	if len(bs) != 4 {
		t.Errorf("%d results, want 4: %+v", len(bs), bs)
	}
	for _, bad := range []string{
		"BenchmarkX 0 1 ns/op\n",
		"BenchmarkX 10 -1 ns/op\n",
		"BenchmarkX 10 Inf ns/op\n",
	} {
		if _, err := ParseBench(bad); err == nil {
			t.Errorf("ParseBench(%q) accepted it", bad)
		}
	}
	if bs, err := ParseBench("--- FAIL: BenchmarkX\nBenchmarkX   \t--- FAIL\nFAIL\n"); err != nil || len(bs) != 0 {
		t.Errorf("a failed run gave %v, %v; want no result and no error", bs, err)
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		t     Target
		ratio float64
		p99   time.Duration
		met   bool
		str   string
	}{
		{Target{MinRatio: 0.35}, 0.35, 0, true, "≥ 0.35"},
		{Target{MinRatio: 0.35}, 0.349, 0, false, "≥ 0.35"},
		{Target{MinRatio: 0.3, MaxP99: 20 * time.Millisecond}, 0.4, 21 * time.Millisecond, false, "≥ 0.30, p99 ≤ 20 ms"},
		{Target{MinRatio: 0.3, MaxP99: 20 * time.Millisecond}, 0.4, 20 * time.Millisecond, true, "≥ 0.30, p99 ≤ 20 ms"},
		{Target{MaxRatio: 3}, 3.1, 0, false, "≤ 3×"},
		{Target{MaxRatio: 3}, 2.9, 0, true, "≤ 3×"},
		{Target{}, 0, 0, true, "(info)"},
	} {
		if got := tc.t.Met(tc.ratio, tc.p99); got != tc.met {
			t.Errorf("%s met by %v, p99 %v: %v, want %v", tc.t, tc.ratio, tc.p99, got, tc.met)
		}
		if got := tc.t.String(); got != tc.str {
			t.Errorf("String() = %q, want %q", got, tc.str)
		}
	}
}

func TestSummarize(t *testing.T) {
	tg := Target{MinRatio: 0.5, MaxP99: 25 * time.Millisecond}
	rows := []Row{
		{Round: 1, Name: "a", Value: 10, LimitValue: 40, P99: 30 * time.Millisecond, Target: tg},
		{Round: 1, Name: "b", Value: 5, LimitValue: 5},
		{Round: 2, Name: "a", Value: 30, LimitValue: 40, P99: 10 * time.Millisecond, Target: tg},
		{Round: 3, Name: "a", Value: 24, LimitValue: 40, P99: 20 * time.Millisecond, Target: tg},
	}
	ss := Summarize(rows)
	if len(ss) != 2 || ss[0].Name != "a" || ss[1].Name != "b" {
		t.Fatalf("summaries %+v", ss)
	}
	a := ss[0]
	if a.Ratio != 0.6 || a.MinRat != 0.25 || a.MaxRat != 0.75 || a.P99 != 20*time.Millisecond || !a.Met || a.MetRounds != 2 || a.Value != 24 {
		t.Errorf("a: %+v", a)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, ss); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "0.600") || !strings.Contains(buf.String(), "2/3") {
		t.Errorf("summary table:\n%s", buf.String())
	}
	buf.Reset()
	if err := Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "NO"); got != 1 {
		t.Errorf("%d rows not met, want 1:\n%s", got, buf.String())
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{12.345: "12.35 req/s", 999.99: "999.99 req/s", 1234567.4: "1,234,567 req/s", 1000: "1,000 req/s"} {
		if got := num(v, "req/s"); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

// FuzzParseWrk feeds arbitrary text to the wrk parser: it must not panic,
// and what it accepts has non-negative figures.
func FuzzParseWrk(f *testing.F) {
	f.Add(wrkOut)
	f.Add(strings.Replace(wrkOut, "Requests/sec:", "  Socket errors: connect 0, read 2, write 0, timeout 12\n  Non-2xx or 3xx responses: 5\nRequests/sec:", 1))
	f.Add("")
	f.Add("50% 1h\n99% 1us\n1 requests in 1s\nRequests/sec: 1\n")
	f.Fuzz(func(t *testing.T, out string) {
		w, err := ParseWrk(out)
		if err != nil {
			return
		}
		if w.RPS < 0 || w.Requests < 0 || w.P50 < 0 || w.P99 < 0 || w.Duration < 0 || w.Errors() < 0 {
			t.Fatalf("accepted negative figures: %+v", w)
		}
	})
}

// FuzzParseBench feeds arbitrary text to the benchmark parser: it must not
// panic, and every result it accepts has a name, iterations and finite,
// non-negative metrics.
func FuzzParseBench(f *testing.F) {
	f.Add(benchOut)
	f.Add("BenchmarkX-2 10 1 ns/op\n")
	f.Add("Benchmark 1 1 1 1\n")
	f.Fuzz(func(t *testing.T, out string) {
		bs, err := ParseBench(out)
		if err != nil {
			return
		}
		for _, b := range bs {
			if b.N <= 0 || b.Name == "" {
				t.Fatalf("accepted %+v", b)
			}
			for u, v := range b.Metrics {
				if v < 0 || v != v {
					t.Fatalf("accepted %s = %v", u, v)
				}
			}
		}
	})
}
