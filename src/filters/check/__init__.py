"""Classifying names and URLs for the carrier's resolver, the child's device and curators."""
