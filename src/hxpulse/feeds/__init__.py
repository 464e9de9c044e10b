"""Live feeds (Server-Sent Events) and email: the channels that tell people what happened."""
