"""The package version: a leaf module, so that checkpoints and artefacts can read it without importing inrdict."""

__version__ = "0.1.0"
