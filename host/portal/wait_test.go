package portal

import (
	"context"
	"testing"
	"time"
)

// TestWaitForBackgroundWork: Wait returns once the work a request left
// running (a reset link's mail) is done, and gives up when its context
// ends first.
func TestWaitForBackgroundWork(t *testing.T) {
	p := &Portal{}
	p.background.Add()
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Wait(short); err == nil {
		t.Fatal("Wait returned while a mail was still being sent")
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		p.background.Done()
	}()
	if err := p.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after the mail: %v", err)
	}
}
