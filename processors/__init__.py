"""The built-in processors. Each module is a pluggy plugin registered through the ``pyramid_jobs``
entry-point group in setup.py, exactly as a third-party processor is."""
