// Package app holds the few things every part of Mutual shares: the
// application error type, the clock, and the identity of the caller.
package app

import (
	"errors"
	"fmt"
	"net/http"
)

// Code classifies an application error. Each code maps to one HTTP status.
type Code string

// The error codes Mutual uses. Keep this list short: a code is only worth
// adding when callers need to behave differently for it.
const (
	CodeInvalid      Code = "invalid"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeTooMany      Code = "too_many_requests"
	CodeTooLarge     Code = "too_large"
	CodeUnsupported  Code = "unsupported_media_type"
	CodeUnavailable  Code = "unavailable" // busy: shed before any work, try again shortly
	CodeInternal     Code = "internal"
)

var statusByCode = map[Code]int{
	CodeInvalid:      http.StatusUnprocessableEntity,
	CodeNotFound:     http.StatusNotFound,
	CodeConflict:     http.StatusConflict,
	CodeUnauthorized: http.StatusUnauthorized,
	CodeForbidden:    http.StatusForbidden,
	CodeTooMany:      http.StatusTooManyRequests,
	CodeTooLarge:     http.StatusRequestEntityTooLarge,
	CodeUnsupported:  http.StatusUnsupportedMediaType,
	CodeUnavailable:  http.StatusServiceUnavailable,
	CodeInternal:     http.StatusInternalServerError,
}

// Status returns the HTTP status for a code; unknown codes are internal errors.
func (c Code) Status() int {
	if s, ok := statusByCode[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// FieldError names one problem with one input field. Field is the form field
// name or JSON pointer-like path ("contact.email"); Message is written for the
// person who typed the value.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type that crosses package boundaries. Message is
// safe to show to the user; Err (if any) is internal detail for the log.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an application error with a user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound is the answer for a record that does not exist or that the caller
// may not see: the two are deliberately indistinguishable.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " was not found"}
}

// Internal wraps an unexpected error; its detail goes to the log only.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "Something went wrong on our side. Please try again.", Err: err}
}

// Invalid builds a validation error from field errors.
func Invalid(fields ...FieldError) *Error {
	msg := "There is a problem with what was entered"
	if len(fields) == 1 {
		msg = fields[0].Message
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: fields}
}

// As returns err as an *Error; errors that are not application errors become
// internal errors so their detail never reaches a user.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	// Errors that carry a choice for the caller (possible duplicates, an
	// open referral) say how they read as an application error.
	var p Presenter
	if errors.As(err, &p) {
		return p.AsAppError()
	}
	return Internal(err)
}

// Presenter is an error that knows how it reads as an application error.
type Presenter interface {
	error
	AsAppError() *Error
}

// IsCode reports whether err is an application error with the given code.
func IsCode(err error, code Code) bool {
	return err != nil && As(err).Code == code
}

// Problems collects field errors in the order fields appear on a form.
type Problems []FieldError

// Add records a problem with one field. Only the first problem per field is
// kept: one clear message beats a list.
func (p *Problems) Add(field, message string) {
	for _, f := range *p {
		if f.Field == field {
			return
		}
	}
	*p = append(*p, FieldError{Field: field, Message: message})
}

// Has reports whether field already has a problem.
func (p Problems) Has(field string) bool {
	for _, f := range p {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil when there are no problems, or a validation error.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return Invalid(p...)
}
