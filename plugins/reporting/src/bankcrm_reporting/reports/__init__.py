"""Saved reports: definitions, runs on demand and on a schedule, the report inbox."""
