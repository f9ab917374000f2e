"""The carrier's register of child SIM lines, and the service keys its systems call us with."""
