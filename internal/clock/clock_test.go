package clock

import (
	"testing"
	"time"
)

func TestFake(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFake(start)
	if !c.Now().Equal(start) {
		t.Fatal(c.Now())
	}
	select {
	case <-c.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
	short, long := c.After(time.Second), c.After(time.Minute)
	<-c.Changed()
	if w := c.Waiting(); len(w) != 2 || w[0] != time.Second || w[1] != time.Minute {
		t.Fatalf("waiting %v", w)
	}
	c.Advance(time.Second)
	select {
	case at := <-short:
		if !at.Equal(start.Add(time.Second)) {
			t.Fatal(at)
		}
	default:
		t.Fatal("a due wait did not fire")
	}
	select {
	case <-long:
		t.Fatal("a wait fired early")
	default:
	}
	if w := c.Waiting(); len(w) != 1 || w[0] != time.Minute {
		t.Fatalf("waiting after advance %v", w)
	}
	c.Advance(time.Minute)
	<-long
	if !c.Now().Equal(start.Add(61 * time.Second)) {
		t.Fatal(c.Now())
	}
}

func TestSystem(t *testing.T) {
	var c Clock = System{}
	before := time.Now()
	<-c.After(time.Millisecond)
	if !c.Now().After(before) {
		t.Fatal("system clock did not move")
	}
}
