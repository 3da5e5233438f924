"""Your six exercises, one module each (see the lessons and `check`)."""
