"""One router per area, each built fresh by its module's setup()."""
