from tests.webhooks.receiver import receiver, receiver_server

__all__ = ["receiver", "receiver_server"]
