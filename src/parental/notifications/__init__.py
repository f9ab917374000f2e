"""Telling guardians: what each event becomes, what it says, and when it may be sent."""
