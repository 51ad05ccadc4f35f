"""Noise schedules and sampling pipelines (networks stay free of any sampling logic)."""
