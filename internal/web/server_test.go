package web

import (
	"html/template"
	"strings"
	"testing"
)

// Two capabilities giving a template function the same name would have one
// silently replace the other on every page (it happened once: recovery's
// "percent" rounded matching's shares); mergeFuncs refuses it.
func TestTemplateFunctionNamesAreUnique(t *testing.T) {
	_ = (&Server{}).templateFuncs() // panics on a name given twice
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "percent is defined twice") {
			t.Fatalf("recover() = %v, want a panic naming percent", r)
		}
	}()
	mergeFuncs(map[string]any{"percent": strings.ToUpper}, template.FuncMap{"percent": strings.ToLower})
}
