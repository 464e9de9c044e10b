"""Surveys: NPS, CSAT, CES and custom questions, their invitations, answers and themes."""
