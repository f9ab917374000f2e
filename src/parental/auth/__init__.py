"""Parent sign-in: phone + one-time code, access JWTs and rotating refresh tokens."""
