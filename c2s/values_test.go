package c2s

import (
	"sync"
	"testing"
)

type keyA struct{}
type keyB struct{}

func TestSessionValuesStoreLoad(t *testing.T) {
	var v sessionValues
	if got := v.load(keyA{}); got != nil {
		t.Fatalf("load of an absent key = %v, want nil", got)
	}
	v.store(keyA{}, 1)
	v.store(keyB{}, "b")
	v.store("name", 3)
	if got := v.load(keyA{}); got != 1 {
		t.Errorf("load(keyA) = %v, want 1", got)
	}
	if got := v.load(keyB{}); got != "b" {
		t.Errorf("load(keyB) = %v, want b", got)
	}
	if got := v.load("name"); got != 3 {
		t.Errorf(`load("name") = %v, want 3`, got)
	}
	v.store(keyA{}, 2)
	if got := v.load(keyA{}); got != 2 {
		t.Errorf("load(keyA) after a second store = %v, want 2", got)
	}
	if n := len(v.entries); n != 3 {
		t.Errorf("%d entries after storing three keys, want 3", n)
	}
}

func TestSessionValuesConcurrent(t *testing.T) {
	var v sessionValues
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				v.store(i, j)
				_ = v.load(i)
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		if got := v.load(i); got != 99 {
			t.Errorf("load(%d) = %v, want 99", i, got)
		}
	}
}
