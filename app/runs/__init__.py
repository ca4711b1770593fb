"""Runs through Temporal: starting, reading, listing and controlling them."""
