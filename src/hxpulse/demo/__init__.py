"""Demo data: the real CDNOW purchase history with simulated touchpoints on top."""
