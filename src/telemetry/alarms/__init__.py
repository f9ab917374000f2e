"""Alarms: SOS from the child's device, low battery, a device gone silent, a SIM moved to
another handset. Each is stored as an ``Alarm`` row the guardians can page through and
published as a typed event (``events``) for the notification side.

The rules that decide when an alarm is due (``engine``) are pure; ``liveness`` keeps one status
row per device (last sign of life, last battery reading), ``handsets`` one keyed hash of the
handset per line, ``service`` the SOS, the guardian's settings and the reading.
"""
