"""The child's requests: extra time with a message, app-install approval."""
