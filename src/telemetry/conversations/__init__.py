"""Conversation safety (issue 8): the messages a child's device sees and their risk labels."""
