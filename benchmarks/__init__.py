"""Benchmarks: scripts that print JSON and a markdown table (run as ``python -m benchmarks.NAME``)."""
