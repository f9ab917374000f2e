"""What is held about a child as a whole: the step-down at 18 and the guardians' export."""
