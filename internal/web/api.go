package web

// Examples and parameters shared by the API operations declared in each
// capability's <capability>_api.go.

import (
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
)

var (
	exampleTime     = time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)
	exampleReferral = referral.Referral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Accepted, FHIRStatus: "active", Version: 2,
		Source: referral.SourceStaff, PersonID: 7, PersonName: "Sam", TeamID: 3, TeamName: "North Community Team", Setting: "community",
		ReferrerUserID: 5, ReferrerName: "Priya Shah", AskedFor: "Someone who understands voices", PersonKnows: true, Consent: "given",
		ReceivedAt: exampleTime, UpdatedAt: exampleTime, DaysWaited: 3, HoursWaited: 72, Urgency: referral.Routine, FHIRPriority: "routine"}
	exampleToken = account.APIToken{ID: 12, Name: "Caseload import", CreatedAt: exampleTime, LastUsedAt: &exampleTime,
		ExpiresAt: exampleTime.Add(90 * 24 * time.Hour), Status: account.TokenActive}
	examplePerson = person.Details{PreferredName: "Sam", FullName: "Samuel Okoro", DateOfBirth: "1994-06-30",
		Phone: "07700 900982", ContactPreference: "text", ContactTimes: "Weekday afternoons", Ethnicity: "black_african"}
)

// id is the path parameter of operations on one record.
var id = []Param{{Name: "id", In: "path", Type: "integer", Required: true, Description: "The record's id."}}

var opOpenAPI = APIOp{Summary: "This OpenAPI document", Tag: "Meta"}
