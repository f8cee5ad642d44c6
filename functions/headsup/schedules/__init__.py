"""Scheduled detectors: a due-time index kept from the streams, and the sweep that reads it."""
