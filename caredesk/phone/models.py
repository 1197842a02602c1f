"""Calls and their events."""
