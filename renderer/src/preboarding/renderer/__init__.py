"""The renderer: the five pipeline stages the operator's Jobs run, and ``preboarding render``."""
