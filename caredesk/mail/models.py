"""Stored inbound and outbound mail."""
