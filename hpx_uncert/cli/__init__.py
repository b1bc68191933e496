"""The ``hpx-uncert`` command line: one command per module, loaded lazily."""
