"""What the filter did for each child: verdict counts per day and category, and the names it
blocked, for the guardian's weekly report; a self-harm block raises an event for an alert."""
