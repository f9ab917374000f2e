"""Geofences: named places per child (a circle or a polygon, an optional weekly schedule, the
events wanted) and the events they produce: the child entered, left, or had not arrived by a
time. Each is stored once under a unique key and published as a typed event (``events``).

The geometry (``geometry``), the schedules (``schedule``) and the transition rules (``engine``)
are pure; ``service`` keeps the state of each (child, place) pair in SQL and runs fixes and
deadlines through them.
"""
