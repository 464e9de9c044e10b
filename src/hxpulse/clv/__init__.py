"""Customer lifetime value: BG/NBD and Gamma-Gamma fitted on purchase events."""
