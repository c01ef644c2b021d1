package memo

import (
	"sync"
	"testing"
	"time"
)

func TestGetPutAndAge(t *testing.T) {
	var m Map[string, int]
	if _, ok := m.Get("a", 0); ok {
		t.Fatal("empty map answered")
	}
	m.Put("a", 1)
	if v, ok := m.Get("a", 0); !ok || v != 1 {
		t.Fatalf("got %d %v", v, ok)
	}
	if v, ok := m.Get("a", time.Hour); !ok || v != 1 {
		t.Fatalf("fresh entry refused: %d %v", v, ok)
	}
	time.Sleep(20 * time.Millisecond)
	if _, ok := m.Get("a", 10*time.Millisecond); ok {
		t.Fatal("an entry older than maxAge was returned")
	}
	if _, ok := m.Get("a", 0); !ok {
		t.Fatal("zero maxAge should accept any age")
	}
}

func TestLimitStartsAgain(t *testing.T) {
	m := Map[int, int]{Limit: 3}
	for i := range 3 {
		m.Put(i, i)
	}
	m.Put(3, 3) // full: starts again with only this entry
	if _, ok := m.Get(0, 0); ok {
		t.Fatal("the map grew past its limit")
	}
	if v, ok := m.Get(3, 0); !ok || v != 3 {
		t.Fatal("the newest entry was lost")
	}
}

func TestDeleteFuncAndClear(t *testing.T) {
	var m Map[int, string]
	for i := range 6 {
		m.Put(i, "x")
	}
	m.DeleteFunc(func(k int) bool { return k%2 == 0 })
	for i := range 6 {
		if _, ok := m.Get(i, 0); ok != (i%2 == 1) {
			t.Fatalf("key %d present %v after deleting the even keys", i, ok)
		}
	}
	m.Clear()
	if _, ok := m.Get(1, 0); ok {
		t.Fatal("entry survived Clear")
	}
}

func TestConcurrentUse(t *testing.T) {
	m := Map[int, int]{Limit: 50}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				m.Put(i%100, g)
				m.Get(i%100, time.Second)
				if i%250 == 0 {
					m.Clear()
				}
			}
		}()
	}
	wg.Wait()
}
