"""A function per state change: each is one transaction and returns the events to publish after it."""
