"""The carrier's age policy (issues 7, 8 and 9): until which age guardians read a child's
whole conversations (``transcripts_under_age``, 13 by default), until which they get alerts
with excerpts (``excerpts_under_age``, 18: nothing is monitored from then), the age bands a
guardian may start a listening session for (``listen_age_bands``, under 16), and from which
age the child's own consent to messages and listening is needed (``child_consent_age``, 14).

The carrier sets it through ``GET``/``PUT /carrier/v1/age-policy`` (service key); it is stored
in one row and replaces the deployment's settings (``PARENTAL_MESSAGES_TRANSCRIPTS_UNDER_AGE``,
``PARENTAL_COMMAND_LISTEN_AGE_BANDS``, ``PARENTAL_CHILD_CONSENT_AGE``), which stay the policy
until the carrier stores one. Everything that decides by these ages asks ``service.current``:
the guardians' reads of messages and the device's messages mode (``parental.conversations``),
the listening command (``parental.commands``), the consent checks (``parental.consent``) and
the child's transparency feed. Each process reads the row at most once a second (``cache``).
"""
