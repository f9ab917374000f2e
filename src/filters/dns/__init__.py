"""The DNS front end: the filter answering child lines' DNS queries (see ``frontend``)."""
