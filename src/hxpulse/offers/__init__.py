"""Next best offers: the catalogue, recommendations, exposures and responses, the holdout."""
