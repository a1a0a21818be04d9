"""jwcal's own features, registered as plugins (``jwcore.plugins.DEFAULT_PLUGINS``)."""
