"""The child's devices: one-time pairing codes, device tokens, listing, renaming, revoking."""
