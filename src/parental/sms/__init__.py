"""Sending SMS: a development sink that logs, and the carrier gateway over HTTP."""
