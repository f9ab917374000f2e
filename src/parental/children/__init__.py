"""Children: name, birthdate, time zone and the child SIM line they use."""
