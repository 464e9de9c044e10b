"""The journey: stages from prospect to advocate, their transitions and the funnel."""
