"""Screen-time rules: the guardian's rules, pause and extra time, and the device's policy."""
