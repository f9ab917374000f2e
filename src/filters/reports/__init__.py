"""Reports of filter mistakes ("wrongly blocked", "should be blocked") and the curators' queue.

Guardians, a child's device and the block page file them; reports of the same target and kind
while one is open become submissions of that one report, so curators review a target once,
most-reported and oldest first. Accepting one adds a rule to a category's manual source; like
every curated change it takes effect at the next publish.
"""
