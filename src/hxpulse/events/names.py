"""The standard event names of Segment's specs (RudderStack uses the same) and the HX Pulse event
type each one means, so that existing instrumentation counts without being changed.

`[pulse] aliases` in hxpulse.toml adds to or overrides this table; `standard_names = false`
drops it. The pulse, the journey, segments' event conditions, survey triggers, `pulse
--unmapped` and the rebuild all read a name through the same table (`PulseSettings.canonical`
and `PulseSettings.names_of`), so the stored events keep the name the source sent.
"""

from __future__ import annotations

# E-commerce spec v2 (and the v1 names Segment still aliases to it)
_ECOMMERCE = {
    "Order Completed": "purchase",
    "Completed Order": "purchase",  # v1
    "Order Refunded": "refund",
    "Order Cancelled": "refund",
    "Product Added": "add_to_cart",
    "Added Product": "add_to_cart",  # v1
    "Wishlist Product Added to Cart": "add_to_cart",
    "Checkout Started": "checkout_started",
    "Product Reviewed": "review",
    "Product Shared": "content_share",
    "Cart Shared": "content_share",
    "share": "content_share",
    "Coupon Applied": "incentive",
    # browsing: a touch of interest, counted like a page view
    "Products Searched": "page_view",
    "Product List Viewed": "page_view",
    "Viewed Product Category": "page_view",  # v1
    "Product List Filtered": "page_view",
    "Product Clicked": "page_view",
    "Product Viewed": "page_view",
    "Viewed Product": "page_view",  # v1
    "Product Removed": "page_view",
    "Removed Product": "page_view",  # v1
    "Product Added to Wishlist": "page_view",
    "Cart Viewed": "page_view",
    "Checkout Step Viewed": "page_view",
    "Checkout Step Completed": "page_view",
    "Payment Info Entered": "page_view",
    "Promotion Viewed": "page_view",
    "Promotion Clicked": "page_view",
}

# B2B SaaS spec, and the subscription names billing sources send
_LIFECYCLE = {
    "Signed Up": "signup",
    "Account Created": "signup",
    "Signed In": "repeat_use",
    "Trial Started": "trial_start",
    "Subscription Started": "purchase",
    "Subscription Cancelled": "cancellation",
}

# Email spec (sent by email tools), mobile and live chat specs
_CHANNELS = {
    "Email Delivered": "email_sent",
    "Email Opened": "email_opened",
    "Email Link Clicked": "email_clicked",
    "Unsubscribed": "unsubscribe",
    "Email Unsubscribed": "unsubscribe",
    "Email Marked as Spam": "unsubscribe",
    "Application Installed": "app_open",
    "Application Opened": "app_open",
    "Live Chat Conversation Started": "support_contact",
}


def _with_snake_case(names: dict[str, str]) -> dict[str, str]:
    """Each name also in snake_case (`order_completed`), unless that is the type itself."""
    table = dict(names)
    for name, event_type in names.items():
        snake = name.lower().replace(" ", "_")
        if snake != event_type:
            table.setdefault(snake, event_type)
    return table


STANDARD_NAMES: dict[str, str] = _with_snake_case({**_ECOMMERCE, **_LIFECYCLE, **_CHANNELS})
