"""Members' accounts: sign-up, log-in, personal API tokens."""
