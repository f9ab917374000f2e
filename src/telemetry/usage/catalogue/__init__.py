"""The app catalogue: which category each app is in, curated, and a guardian's own per child."""
