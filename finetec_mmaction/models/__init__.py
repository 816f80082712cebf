import mmaction.models  # noqa: F401  (registers the stock modules we build on)
