"""The one exception type that gan-run turns into a one-line message instead of a traceback."""


class GanRunError(Exception):
    """A problem with the user's input (config value, file, device) that they can fix."""
