"""The `pledge` commands: each parses its arguments, calls the service, prints the answer."""
