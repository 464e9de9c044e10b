"""Auth: API and write keys for programs, users with roles for people."""
