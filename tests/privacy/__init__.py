"""Personal data (issue 14, docs/privacy.md): the rules and services of `leadenrich.privacy`."""
