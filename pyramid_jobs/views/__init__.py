"""The add-on's views: ``api`` (JSON), ``errors`` (the one error shape), ``pages`` (HTML)."""
