"""Advocacy: referral codes and links, their attribution, asks, and the advocacy report."""
