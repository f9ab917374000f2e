"""Filter profiles in SQL: one per child, starting from the defaults of the child's age band."""
