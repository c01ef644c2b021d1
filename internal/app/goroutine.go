package app

import (
	"fmt"
	"runtime/debug"
)

// Recovered runs fn and turns a panic in it into an error carrying the
// stack. Work a request hands to other goroutines (an import's batches, a
// view's parts) runs through it: the web layer's recovery answers a panic
// in the request's own goroutine with an error page, but a panic in any
// other stops the whole service. archtest (TestGoroutinesRecover) checks
// every goroutine the product starts.
func Recovered(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn()
}
