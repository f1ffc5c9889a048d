"""The error for an unusable environment variable: its own module, so cheap handlers can raise it too."""


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use; the message names it."""
