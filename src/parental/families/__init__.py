"""Families: the guardians who share responsibility for children, and invitations to join."""
