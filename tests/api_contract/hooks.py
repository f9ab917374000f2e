"""Schemathesis hooks for the contract run (loaded through ``SCHEMATHESIS_HOOKS``): the audio
upload takes raw bytes under audio media types, which Schemathesis sends as it sends
``application/octet-stream`` once told to."""

from __future__ import annotations

import schemathesis

from parental.commands.audio import ACCEPTED_TYPES

schemathesis.serializer.alias(list(ACCEPTED_TYPES), "application/octet-stream")
