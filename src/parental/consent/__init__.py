"""Consent: what the guardian (and, from an age the carrier sets, the child) agreed to be
collected about the child, versioned; and the child's transparency feed."""
