// Package fhir writes what Mutual shares in HL7 FHIR R4: small structs for
// the resources it exports, and the mappings from the capabilities' own
// types. No FHIR model package can be fetched here, so these are written by
// hand and checked in tests against the official R4 JSON schema.
package fhir

import (
	"strconv"
	"time"
)

// ContentType is the media type of FHIR JSON.
const ContentType = "application/fhir+json"

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept as codes and/or text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Reference points at another resource.
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Annotation is a note.
type Annotation struct {
	Text string `json:"text"`
}

// Meta is a resource's metadata.
type Meta struct {
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// Extension is a FHIR extension holding an integer.
type Extension struct {
	URL          string `json:"url"`
	ValueInteger *int   `json:"valueInteger,omitempty"`
}

// Bundle is a search result set.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Total        int           `json:"total"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// BundleLink is a link about the bundle (its own address).
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// BundleEntry is one resource in a bundle.
type BundleEntry struct {
	FullURL  string       `json:"fullUrl"`
	Resource any          `json:"resource"`
	Search   *EntrySearch `json:"search,omitempty"`
}

// EntrySearch says why an entry is in a search result.
type EntrySearch struct {
	Mode string `json:"mode"`
}

// Resource is anything with a type and an id, for bundles.
type Resource interface {
	Kind() string
	ResourceID() string
}

// SearchSet bundles the resources matching a search made at self.
func SearchSet(base, self string, rs []Resource) Bundle {
	b := Bundle{ResourceType: "Bundle", Type: "searchset", Total: len(rs), Link: []BundleLink{{Relation: "self", URL: self}}}
	for _, r := range rs {
		b.Entry = append(b.Entry, BundleEntry{FullURL: base + "/fhir/R4/" + r.Kind() + "/" + r.ResourceID(), Resource: r, Search: &EntrySearch{Mode: "match"}})
	}
	return b
}

// dateTime writes t as a FHIR dateTime (or instant) in UTC, to the second.
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// PatientRef is the reference to a person as a FHIR Patient.
func PatientRef(personID int64, name string) Reference {
	return Reference{Reference: "Patient/" + itoa(personID), Display: name}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
