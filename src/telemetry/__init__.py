"""Device data: location fixes, geofences, alarms, app usage (issues 5 and 6)."""
