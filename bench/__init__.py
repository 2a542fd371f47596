"""Benchmarks: scripts that measure the service, run by hand (see docs/benchmarks.md)."""
