"""Imports fine, but has no attribute 'app': the guest refuses to start it."""
application = None
