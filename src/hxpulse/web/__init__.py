"""The web application: JSON API, tracking endpoints and pages."""
