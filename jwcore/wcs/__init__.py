"""World coordinate systems shared by the instrument plugins (imaging: :mod:`.imaging`)."""
