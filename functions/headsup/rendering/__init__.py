"""Notices as the customer reads them: Jinja2 templates, locale formatting, SMS encoding, links."""
