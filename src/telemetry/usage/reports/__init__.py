"""Usage reports, the limit-reached event and the weekly summary."""
