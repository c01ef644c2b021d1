//go:build !linux

package storetest

func memDir() string { return "" }
